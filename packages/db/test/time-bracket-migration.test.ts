import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appendEvidence, findEvidenceWithLeaf, migrate, newId, readSequenceQueue } from '@fieldproof/db';
import type { NewEvidence } from '@fieldproof/db';
import { toHex } from '@fieldproof/merkle';
import { evidenceRecordOf, leafHashOf } from '@fieldproof/receipt';
import { addMigration, databaseMigratedTo, testEngines } from '../../../test/support/databases.js';
import { evidenceRow } from '../../../test/support/evidence-rows.js';

/**
 * Migration 0008 adds the leaf format and the time bracket's lower end to `evidence`. It runs here on a
 * database migrated to 0006 (0007 is another change; the migrator accepts the gap) that already holds
 * sequenced evidence: every existing row becomes a fieldproof-leaf/v1 record whose leaf hash is exactly
 * the one stored before, the table stays append-only, and the new columns take only the combinations
 * the format allows.
 */

const digest = (s: string) => createHash('sha256').update(s).digest('hex');
const BLOCK_HASH = `0x${'ab'.repeat(32)}`;

describe.each(testEngines())('migration 0008 (evidence time bracket) on %s', (engine) => {
  it('keeps every existing leaf hash, stays append-only and accepts only whole brackets', async () => {
    const { database, dir } = await databaseMigratedTo(engine, 6);
    const { db } = database;
    // Rows as the api wrote them before 0008 (its column list then), each with its leaf.
    const before = [0, 1, 2].map((i) => ({
      id: newId(),
      digest: digest(`before ${i}`),
      kind: 'photo',
      source: 'digest' as const,
      occurred_at: 1_700_000_000_000 + i,
      received_at: 1_700_000_000_500 + i,
      payload_mime: i === 1 ? 'image/jpeg' : null,
      payload_size: null,
      payload_json: null,
      metadata: i === 2 ? '{"unit":"7"}' : null,
      content_stored: 0 as const,
    }));
    const leafHashes = before.map((r) =>
      toHex(
        leafHashOf({
          id: r.id,
          digest: r.digest,
          kind: r.kind,
          occurredAt: r.occurred_at,
          receivedAt: r.received_at,
          payloadMime: r.payload_mime,
          metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as { unit: string }),
        }),
      ),
    );
    await db.insertInto('evidence').values(before).execute();
    await db
      .insertInto('log_leaves')
      .values(
        before.map((r, i) => ({
          leaf_index: i,
          evidence_id: r.id,
          leaf_hash: leafHashes[i]!,
          sequenced_at: 1,
        })),
      )
      .execute();

    addMigration(dir, 8);
    expect(fs.readdirSync(dir).some((f) => f.startsWith('0007_'))).toBe(false);
    expect((await migrate(database, { dir })).map((m) => m.version)).toEqual([8]);

    for (const [i, r] of before.entries()) {
      const row = (await findEvidenceWithLeaf(db, r.id))!;
      expect(row.leaf_version).toBe(1);
      const record = evidenceRecordOf(row);
      expect('leafFormat' in record || 'notBefore' in record || 'clockSuspect' in record).toBe(false);
      expect(toHex(leafHashOf(record))).toBe(leafHashes[i]);
    }

    // Still append-only: the triggers of 0002 refuse an UPDATE of the new columns too.
    await expect(
      db.updateTable('evidence').set({ clock_suspect: 1 }).where('id', '=', before[0]!.id).execute(),
    ).rejects.toThrow(/append-only/);

    const v2 = (over: Partial<NewEvidence>): NewEvidence => ({
      ...evidenceRow({ kind: 'photo', occurred_at: 1_700_000_001_000, received_at: 1_700_000_001_000 }),
      leaf_version: 2,
      not_before_chain_id: 31337,
      not_before_number: 9,
      not_before_hash: BLOCK_HASH,
      not_before_timestamp: 1_700_000_000_000,
      clock_suspect: 0,
      ...over,
    });
    const noBlock = {
      not_before_chain_id: null,
      not_before_number: null,
      not_before_hash: null,
      not_before_timestamp: null,
    };
    const good = [v2({}), v2({ ...noBlock, clock_suspect: 1 })];
    await db.transaction().execute((trx) => appendEvidence(trx, good));
    const queued = await readSequenceQueue(db, 10);
    expect(queued.map(evidenceRecordOf).map((r) => [r.leafFormat, r.notBefore, r.clockSuspect])).toEqual([
      [
        'fieldproof-leaf/v2',
        { chainId: 31337, number: 9, hash: BLOCK_HASH, timestamp: 1_700_000_000_000 },
        false,
      ],
      ['fieldproof-leaf/v2', null, true],
    ]);

    const refused = [
      v2({ clock_suspect: null }), // v2 must say whether its clock was suspect
      v2({ not_before_hash: null }), // half a block
      v2({ leaf_version: 1 }), // a v1 row with a block
      v2({ ...noBlock, leaf_version: 1 }), // a v1 row with a clock flag
      v2({ leaf_version: 3 }),
      v2({ not_before_hash: 'ab'.repeat(32) }), // no 0x: not 66 characters
    ];
    for (const row of refused) {
      await expect(db.transaction().execute((trx) => appendEvidence(trx, [row]))).rejects.toThrow();
    }
  });
});
