import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appendEvidence, newId, readSequenceQueue } from '@fieldproof/db';
import type { NewEvidence } from '@fieldproof/db';
import { createTestDatabase, testEngines } from '../../../test/support/databases.js';
import { V1_LEAF_COLUMNS } from '../../../test/support/leaf-columns.js';

let made = 0;
/**
 * Rows that use every column, nulls included, in a key order unlike the table's: v2 rows with and
 * without a not-before block, and v1 rows that leave the leaf-format columns out (their defaults).
 */
function rows(n: number): NewEvidence[] {
  return Array.from({ length: n }, () => {
    const i = made++;
    const leaf =
      i % 3 === 0
        ? { leaf_version: 1, not_before_chain_id: null, not_before_number: null, not_before_hash: null }
        : {
            clock_suspect: (i % 2) as 0 | 1,
            not_before_timestamp: i % 3 === 1 ? 1_699_000_000_000 + i : null,
            not_before_hash:
              i % 3 === 1 ? `0x${createHash('sha256').update(`block ${i}`).digest('hex')}` : null,
            not_before_number: i % 3 === 1 ? 1000 + i : null,
            not_before_chain_id: i % 3 === 1 ? 31337 : null,
            leaf_version: 2,
          };
    return {
      ...leaf,
      content_stored: (i % 2) as 0 | 1,
      metadata: i % 3 === 0 ? null : `{"i":${i}}`,
      payload_json: i % 5 === 0 ? `{"p":${i}}` : null,
      payload_size: i % 5 === 0 ? 7 : null,
      payload_mime: i % 4 === 0 ? 'application/json' : null,
      received_at: 1_700_000_000_000 + i,
      occurred_at: 1_600_000_000_000 + i,
      source: i % 5 === 0 ? 'json' : 'digest',
      kind: `kind-${i % 7}`,
      digest: createHash('sha256').update(`row ${i}`).digest('hex'),
      id: newId(),
    };
  });
}

describe.each(testEngines())('appendEvidence on %s', (engine) => {
  // appendEvidence binds values to SQL texts compiled once per dialect and chunk size: every column of
  // every row must land where it belongs, for batch sizes that take one chunk and several.
  it.each([1, 2, 3, 7, 64, 129, 300])(
    'stores %i rows column for column, each queued for sequencing',
    async (n) => {
      const database = await createTestDatabase(engine);
      try {
        const written = rows(n);
        await database.db.transaction().execute((trx) => appendEvidence(trx, written));
        const stored = await database.db.selectFrom('evidence').selectAll().orderBy('id').execute();
        const normalised = stored.map((r) => ({
          ...r,
          occurred_at: Number(r.occurred_at),
          received_at: Number(r.received_at),
          payload_size: r.payload_size === null ? null : Number(r.payload_size),
          content_stored: Number(r.content_stored),
        }));
        const byId = [...written].sort((a, b) => (a.id < b.id ? -1 : 1));
        expect(normalised).toEqual(byId.map((r) => ({ ...V1_LEAF_COLUMNS, ...r })));
        const queue = await database.db
          .selectFrom('sequence_queue')
          .selectAll()
          .orderBy('evidence_id')
          .execute();
        // PostgreSQL: one queue row each; SQLite (migration 0007): none, the rows wait after the watermark.
        expect(queue.map((q) => [q.evidence_id, Number(q.enqueued_at)])).toEqual(
          engine === 'sqlite' ? [] : byId.map((r) => [r.id, r.received_at]),
        );
        const waiting = await readSequenceQueue(database.db, n + 1);
        expect(waiting.map((q) => q.id)).toEqual(
          engine === 'sqlite' ? written.map((r) => r.id) : byId.map((r) => r.id),
        );
      } finally {
        await database.close();
      }
    },
  );

  it('a duplicate digest fails the whole call and leaves nothing behind', async () => {
    const database = await createTestDatabase(engine);
    try {
      const [first] = rows(1);
      await database.db.transaction().execute((trx) => appendEvidence(trx, [first!]));
      const batch = rows(3);
      batch[2] = { ...batch[2]!, digest: first!.digest };
      await expect(database.db.transaction().execute((trx) => appendEvidence(trx, batch))).rejects.toThrow();
      const count = await database.db
        .selectFrom('evidence')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(1);
    } finally {
      await database.close();
    }
  });
});
