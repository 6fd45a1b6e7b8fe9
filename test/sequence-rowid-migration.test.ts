import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  LOG_META,
  SEQUENCE_ROWID_BASE,
  appendEvidence,
  countQueuedEvidence,
  createDatabase,
  getLogMeta,
  initLogMeta,
  migrate,
  newId,
} from '@fieldproof/db';
import type { Database, NewEvidence } from '@fieldproof/db';
import { createSequencer } from '@fieldproof/keeper';
import { receiptFor } from '@fieldproof/proofs';
import { verifyReceiptOffline } from '@fieldproof/receipt';
import { drain, testDeps, testDevice } from '../packages/keeper/test/support.js';
import {
  addMigration,
  copyOfMigrations,
  createEmptyTestDatabase,
  freshDatabaseUrl,
  targetOf,
  testEngines,
} from './support/databases.js';
import { evidenceRow } from './support/evidence-rows.js';

/**
 * Migration 0007 (SQLite: sequence evidence by rowid, no new sequence_queue rows) on a database that
 * was in use under 0006: some evidence sequenced, some still queued — and queued rows whose rowids lie
 * BELOW sequenced ones (ids taken out of commit order), the case a plain rowid watermark would skip.
 * After it every record has exactly one leaf, the receipts issued before it still verify and are the
 * ones issued after it, and a SIGKILL at any moment leaves it either not applied or applied whole.
 */

const MIGRATE_CHILD = fileURLToPath(new URL('./support/migrate-child.mjs', import.meta.url));

function evidence(id: string, n: number): NewEvidence {
  return evidenceRow({
    id,
    digest: createHash('sha256').update(`${id} ${n}`).digest('hex'),
    occurred_at: 1_700_000_000_000 + n,
    received_at: 1_700_000_000_500 + n,
    metadata: n % 3 === 0 ? `{"n":${n}}` : null,
  });
}

/** The api's writes under 0006: an evidence row and its sequence_queue row, in rowid order `rows`. */
async function writeAsUnder0006(database: Database, rows: readonly NewEvidence[]): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    for (const row of rows) {
      await trx.insertInto('evidence').values(row).execute();
      await trx
        .insertInto('sequence_queue')
        .values({ evidence_id: row.id, enqueued_at: row.received_at })
        .execute();
    }
  });
}

async function leavesByEvidence(database: Database): Promise<Map<string, number[]>> {
  const rows = await database.db.selectFrom('log_leaves').select(['evidence_id', 'leaf_index']).execute();
  const by = new Map<string, number[]>();
  for (const r of rows) by.set(r.evidence_id, [...(by.get(r.evidence_id) ?? []), Number(r.leaf_index)]);
  return by;
}

describe.each(testEngines())('migration 0007 (sequence by rowid) on %s', (engine) => {
  it('sequences queued and new evidence exactly once; receipts issued before it still verify', async () => {
    // 0001–0006 plus 0008 (the leaf v2 columns, whose v1 defaults every row written here keeps): this
    // keeper's sequencer stands in for the one before 0007, and it reads those columns. 0007 comes later.
    const dir = copyOfMigrations(6);
    addMigration(dir, 8);
    const database = await createEmptyTestDatabase(engine);
    try {
      await migrate(database, { dir });
      const device = testDevice();
      await initLogMeta(database.db, LOG_META.origin, device.origin, 1);
      await initLogMeta(database.db, LOG_META.verifierKey, device.verifierKey, 1);
      const sequencer = createSequencer(testDeps(database, { KEEPER_SEQUENCE_BATCH_MAX: '5' }), device);
      // 12 ids committed in reverse id order: the queue (id order) sequences the LAST-committed first.
      const ids = Array.from({ length: 12 }, () => newId());
      const before = ids.map((id, i) => evidence(id, i)).reverse();
      await writeAsUnder0006(database, before);
      expect(await sequencer.runOnce()).toBe(true); // 5 leaves: ids[0..4], the 5 largest rowids
      const sequencedBefore = ids.slice(0, 5);
      expect([...(await leavesByEvidence(database)).keys()].sort()).toEqual(sequencedBefore);
      const receiptsBefore = await Promise.all(
        sequencedBefore.map((id) => receiptFor(database.db, id, { format: 'fieldproof-receipt/v1' })),
      );
      for (const r of receiptsBefore) expect(verifyReceiptOffline(r).ok).toBe(true);

      addMigration(dir, 7);
      expect((await migrate(database, { dir })).map((m) => m.version)).toEqual([7]);
      expect(await countQueuedEvidence(database.db)).toBe(7);
      if (engine === 'sqlite') {
        expect(await getLogMeta(database.db, SEQUENCE_ROWID_BASE)).toBe(ids[0]); // the largest rowid
        // An api older than 0007 would queue its rows a second time: refused.
        await expect(
          database.db
            .insertInto('sequence_queue')
            .values({ evidence_id: ids[11]!, enqueued_at: 1 })
            .execute(),
        ).rejects.toThrow(/sequence_queue takes no new rows on SQLite since migration 0007/);
      }

      // New intake after the migration, then the keeper catches up.
      const after = Array.from({ length: 9 }, (_, i) => evidence(newId(), 100 + i));
      await database.db.transaction().execute((trx) => appendEvidence(trx, after));
      expect(await countQueuedEvidence(database.db)).toBe(16);
      await drain(sequencer);
      expect(await countQueuedEvidence(database.db)).toBe(0);
      expect(await database.db.selectFrom('sequence_queue').selectAll().execute()).toEqual([]);

      const leaves = await leavesByEvidence(database);
      const everyId = [...ids, ...after.map((r) => r.id)];
      expect([...leaves.keys()].sort()).toEqual([...everyId].sort());
      for (const id of everyId) expect(leaves.get(id)).toHaveLength(1);
      expect([...leaves.values()].flat().sort((a, b) => a - b)).toEqual(everyId.map((_, i) => i));

      // Receipts issued before still verify; the same records' receipts now have the same leaves.
      for (const [i, old] of receiptsBefore.entries()) {
        expect(verifyReceiptOffline(old).ok).toBe(true);
        const now = await receiptFor(database.db, sequencedBefore[i]!, { format: 'fieldproof-receipt/v1' });
        expect(verifyReceiptOffline(now).ok).toBe(true);
        expect(now.leaf).toEqual(old.leaf);
      }
      for (const id of everyId)
        expect(
          verifyReceiptOffline(await receiptFor(database.db, id, { format: 'fieldproof-receipt/v1' })).ok,
        ).toBe(true);
    } finally {
      await database.close();
    }
  });

  it('a SIGKILL at any moment of the migration leaves it unapplied or whole; a restart completes it', async () => {
    const dir = copyOfMigrations(6);
    const url = await freshDatabaseUrl(engine);
    const database = createDatabase(targetOf(url));
    try {
      await migrate(database, { dir });
      const rows = Array.from({ length: 1_000 }, (_, i) => evidence(newId(), i));
      await writeAsUnder0006(database, rows);
      await database.close();

      for (const delayMs of [0, 40, 80, 120, 160, 200, 240, 300]) {
        const child = spawn(process.execPath, [MIGRATE_CHILD], {
          env: { ...process.env, API_DB_URL: url },
          stdio: 'ignore',
        });
        const exited = new Promise((r) => child.once('exit', r)); // before it can have exited
        await new Promise((r) => setTimeout(r, delayMs));
        child.kill('SIGKILL');
        await exited;
        const check = createDatabase(targetOf(url));
        try {
          const applied = await check.db
            .selectFrom('schema_migrations')
            .select('version')
            .where('version', '=', 7)
            .execute();
          const base = await getLogMeta(check.db, SEQUENCE_ROWID_BASE);
          if (engine === 'sqlite') {
            const trigger = check
              .sqlite!.prepare(
                "SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name = 'sequence_queue_closed'",
              )
              .get() as { n: number };
            // All of it or nothing.
            expect([applied.length, base === undefined ? 0 : 1, trigger.n]).toSatisfy(
              (v: number[]) => v.every((x) => x === 0) || v.every((x) => x === 1),
            );
          }
          if (applied.length === 1) break;
        } finally {
          await check.close();
        }
      }

      const restarted = createDatabase(targetOf(url));
      try {
        await migrate(restarted);
        const versions = await restarted.db.selectFrom('schema_migrations').select('version').execute();
        expect(versions.map((v) => Number(v.version))).toContain(7);
        if (engine === 'sqlite') {
          expect(await getLogMeta(restarted.db, SEQUENCE_ROWID_BASE)).toBe(rows.at(-1)!.id);
        }
        expect(await countQueuedEvidence(restarted.db)).toBe(1_000);
      } finally {
        await restarted.close();
      }
    } finally {
      await database.close().catch(() => undefined); // already closed unless a setup step threw
    }
  }, 180_000);
});
