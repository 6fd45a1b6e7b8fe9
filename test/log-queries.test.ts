import { describe, expect, it } from 'vitest';
import {
  countLeaves,
  countQueuedEvidence,
  deleteQueuedEvidence,
  enqueueEvidence,
  getCheckpoint,
  getLatestCheckpoint,
  getLeafByEvidenceId,
  getNodes,
  hasQueuedEvidence,
  insertCheckpoint,
  insertLeaves,
  insertNodes,
  newId,
  oldestUnanchoredLeafTime,
  readSequenceQueue,
} from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { createTestDatabase, testEngines } from './support/databases.js';
import { evidenceRow } from './support/evidence-rows.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');

async function addEvidence(database: Database, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => newId());
  await database.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('evidence')
      .values(
        ids.map((id, i) =>
          evidenceRow({
            id,
            digest: hex(Math.floor(Math.random() * 2 ** 40) * 1000 + i),
            occurred_at: 1000 + i,
            received_at: 2000 + i,
            payload_mime: i === 0 ? 'image/jpeg' : null,
            metadata: i === 0 ? '{"a":1}' : null,
          }),
        ),
      )
      .execute();
    await enqueueEvidence(
      trx,
      ids.map((id) => ({ id, received_at: 1 })),
    );
  });
  return ids;
}

describe.each(testEngines())('log queries on %s', (engine) => {
  it('reads the queue in id order with the leaf fields, appends in bulk, and finds nodes in one query', async () => {
    const database = await createTestDatabase(engine);
    try {
      expect(await hasQueuedEvidence(database.db)).toBe(false);
      const ids = await addEvidence(database, 2_345);
      expect(await hasQueuedEvidence(database.db)).toBe(true);
      expect(await countQueuedEvidence(database.db)).toBe(2_345);
      const queued = await readSequenceQueue(database.db, 2_000);
      // PostgreSQL: sequence_queue in id order; SQLite: evidence in rowid (insert) order.
      expect(queued.map((q) => q.id)).toEqual((engine === 'sqlite' ? ids : [...ids].sort()).slice(0, 2_000));
      expect(queued.find((q) => q.id === ids[0])).toMatchObject({
        occurred_at: 1000,
        received_at: 2000,
        payload_mime: 'image/jpeg',
        metadata: '{"a":1}',
        leaf_version: 1,
        clock_suspect: null,
      });

      // 2 345 rows: power-of-two chunks (512 × 4 + 256 + 16 + 8 + 1) of cached statement texts.
      await database.db.transaction().execute(async (trx) => {
        await insertLeaves(
          trx,
          ids.map((evidenceId, i) => ({ leafIndex: i, evidenceId, leafHash: hex(i), sequencedAt: 5 })),
        );
        await insertNodes(trx, [
          { level: 1, index: 0, hash: hex(101) },
          { level: 1, index: 1, hash: hex(102) },
          { level: 2, index: 0, hash: hex(201) },
        ]);
        await deleteQueuedEvidence(trx, ids.slice(0, 2_222));
      });
      // PostgreSQL: the 123 queue rows not deleted; SQLite: the newest leaf moved the watermark past all.
      expect(await countQueuedEvidence(database.db)).toBe(engine === 'sqlite' ? 0 : 123);
      expect(await countLeaves(database.db)).toBe(2_345);
      expect(await getLeafByEvidenceId(database.db, ids[7]!)).toMatchObject({
        leaf_index: 7,
        leaf_hash: hex(7),
      });

      const nodes = await getNodes(database.db, [
        { level: 2, index: 0 },
        { level: 0, index: 4 },
        { level: 1, index: 1 },
        { level: 0, index: 2_344 },
        { level: 0, index: 9_999 }, // not stored: absent
        { level: 3, index: 0 }, // not stored: absent
      ]);
      const sorted = [...nodes].sort((a, b) => a.level - b.level || a.index - b.index);
      expect(sorted).toEqual([
        { level: 0, index: 4, hash: hex(4) },
        { level: 0, index: 2_344, hash: hex(2_344) },
        { level: 1, index: 1, hash: hex(102) },
        { level: 2, index: 0, hash: hex(201) },
      ]);
      expect(await getNodes(database.db, [])).toEqual([]);
      expect(await getNodes(database.db, [{ level: 1, index: 0 }])).toEqual([
        { level: 1, index: 0, hash: hex(101) },
      ]);
    } finally {
      await database.close();
    }
  });

  it('getNodes outside a transaction never sees the uncommitted nodes of one open on the same handle', async () => {
    const database = await createTestDatabase(engine);
    try {
      let reading: Promise<unknown> | undefined;
      await database.db
        .transaction()
        .execute(async (trx) => {
          await insertNodes(trx, [{ level: 1, index: 0, hash: hex(101) }]);
          // A proof read from elsewhere while this transaction is open (on SQLite: the same connection).
          reading = getNodes(database.db, [{ level: 1, index: 0 }]);
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect(await reading).toEqual([]);
    } finally {
      await database.close();
    }
  });

  it('keeps checkpoints by size and reports the oldest leaf no final anchor covers', async () => {
    const database = await createTestDatabase(engine);
    try {
      expect(await getLatestCheckpoint(database.db)).toBeUndefined();
      expect(await oldestUnanchoredLeafTime(database.db)).toBeUndefined();
      const ids = await addEvidence(database, 4);
      await database.db.transaction().execute(async (trx) => {
        await insertLeaves(
          trx,
          ids.map((evidenceId, i) => ({ leafIndex: i, evidenceId, leafHash: hex(i), sequencedAt: 100 + i })),
        );
      });
      for (const size of [2, 4]) {
        await insertCheckpoint(database.db, {
          treeSize: size,
          rootHash: hex(size),
          origin: 'o',
          signedNote: `note ${size}`,
          createdAt: 7,
        });
      }
      expect(await getLatestCheckpoint(database.db)).toMatchObject({ tree_size: 4, signed_note: 'note 4' });
      expect(await getCheckpoint(database.db, 2)).toMatchObject({ tree_size: 2, root_hash: hex(2) });
      expect(await getCheckpoint(database.db, 3)).toBeUndefined();
      expect(await oldestUnanchoredLeafTime(database.db)).toBe(100);
      const job = (treeSize: number, state: 'final' | 'broadcast', chain: string) => ({
        id: newId(),
        chain,
        chain_id: 1,
        tree_size: treeSize,
        state,
        attempts: 0,
        next_attempt_at: 0,
        lease_owner: null,
        lease_expires_at: null,
        lease_token: 0,
        last_error: null,
        created_at: 0,
        updated_at: 0,
      });
      await database.db
        .insertInto('anchor_jobs')
        .values([job(2, 'final', 'a'), job(4, 'broadcast', 'b')])
        .execute();
      expect(await oldestUnanchoredLeafTime(database.db)).toBe(102); // leaves 0, 1 are covered
      await database.db
        .insertInto('anchor_jobs')
        .values(job(4, 'final', 'a'))
        .execute();
      expect(await oldestUnanchoredLeafTime(database.db)).toBeUndefined();
    } finally {
      await database.close();
    }
  });
});
