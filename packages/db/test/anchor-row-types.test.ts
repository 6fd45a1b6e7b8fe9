import { describe, expect, it } from 'vitest';
import {
  claimAnchorJob,
  countAnchorJobsByState,
  findNewestCheckpointToAnchor,
  getChainAccount,
  initChainAccount,
  insertAnchorJob,
  insertAnchorTx,
  listAnchorJobs,
  listAnchorTxsOfChain,
  newId,
  unminedAnchorNonces,
} from '@fieldproof/db';
import { appendCheckpoint } from '../../../test/support/anchor-fixtures.js';
import { createTestDatabase, testEngines } from '../../../test/support/databases.js';

/**
 * The anchor queries return rows as the drivers give them, with no `Number()` pass: every INTEGER and
 * BIGINT column (and COUNT, MAX) must therefore already be a JavaScript number on both engines —
 * better-sqlite3 without safe integers, and the pg pool's BIGINT parser (pg alone returns strings).
 */
describe.each(testEngines())('anchor rows on %s', (engine) => {
  it('carry numbers, not strings, for every integer column and aggregate', async () => {
    const database = await createTestDatabase(engine);
    try {
      const now = 1_750_000_000_000;
      const cp = await appendCheckpoint(database, 3, { now });
      const jobId = newId();
      await insertAnchorJob(database.db, {
        id: jobId,
        chain: 'local',
        chainId: 31337,
        treeSize: cp.treeSize,
        now,
      });
      const claimed = await database.db
        .transaction()
        .execute((trx) =>
          claimAnchorJob(trx, { chain: 'local', owner: 'w', now, leaseMs: 1000, skipLocked: false }),
        );
      expect(claimed?.lease_token).toBe(1);
      await insertAnchorTx(database.db, {
        id: newId(),
        job_id: jobId,
        chain: 'local',
        chain_id: 31337,
        from_address: '0x00',
        nonce: 7,
        tx_hash: '0x01',
        raw_tx: '0x02',
        max_fee_per_gas: '1',
        max_priority_fee_per_gas: '1',
        state: 'signed',
        created_at: now,
        updated_at: now,
      });
      await initChainAccount(database.db, {
        chain: 'local',
        address: '0x00',
        chain_id: 31337,
        next_nonce: 8,
        updated_at: now,
      });
      const [job] = await listAnchorJobs(database.db);
      const [tx] = await listAnchorTxsOfChain(database.db, 'local');
      const account = await getChainAccount(database.db, 'local', '0x00');
      const checkpoint = await findNewestCheckpointToAnchor(database.db);
      const numbers = {
        ...pick(job!, [
          'chain_id',
          'tree_size',
          'attempts',
          'next_attempt_at',
          'lease_expires_at',
          'lease_token',
        ]),
        ...pick(tx!, ['chain_id', 'nonce', 'created_at']),
        ...pick(account!, ['chain_id', 'next_nonce', 'updated_at']),
        treeSize: checkpoint!.treeSize,
        createdAt: checkpoint!.createdAt,
        count: (await countAnchorJobsByState(database.db))[0]!.count,
        nonces: (await unminedAnchorNonces(database.db, 'local'))[0],
      };
      for (const [name, value] of Object.entries(numbers))
        expect([name, typeof value]).toEqual([name, 'number']);
      expect(numbers.count).toBe(1);
      expect(job!.lease_token).toBe(1);
    } finally {
      await database.close();
    }
  });
});

function pick<T extends object>(row: T, keys: readonly (keyof T & string)[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, row[k]]));
}
