import { describe, expect, it } from 'vitest';
import { insertAnchorJob, migrate, newId } from '@fieldproof/db';
import { addMigration, databaseMigratedTo, testEngines } from '../../../test/support/databases.js';
import { failure, insertFinalAnchor } from '../../../test/support/anchor-rows.js';

/**
 * Migration 0004 lets an anchor be `lost` and its checkpoint be anchored again. It rewrites two tables
 * that hold live data (SQLite rebuilds them), so it is run here on a database migrated to 0003 that
 * already has a job and a transaction: the rows survive, and every constraint still holds.
 */

const BIGINT_COLUMNS = new Set([
  'chain_id',
  'tree_size',
  'next_attempt_at',
  'lease_expires_at',
  'lease_token',
  'created_at',
  'updated_at',
  'nonce',
  'block_number',
  'block_timestamp',
]);

describe.each(testEngines())('migration 0004 (anchor_lost) on %s', (engine) => {
  it('keeps existing jobs and transactions, allows lost, one live job per checkpoint, and keeps every constraint', async () => {
    const { database, dir } = await databaseMigratedTo(engine, 3);
    const { db } = database;
    const { job, tx } = await insertFinalAnchor(db, '0x02');
    // Before 0004 the state is refused by the CHECK.
    expect(await failure(db.updateTable('anchor_jobs').set({ state: 'lost' }).execute())).toBe('check');

    addMigration(dir, 4);
    expect((await migrate(database, { dir })).map((m) => m.version)).toEqual([4]);

    const jobs = await db.selectFrom('anchor_jobs').selectAll().execute();
    const txs = await db.selectFrom('anchor_txs').selectAll().execute();
    // PostgreSQL returns BIGINT columns as strings.
    const numeric = (row: object) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, BIGINT_COLUMNS.has(k) && v !== null ? Number(v) : v]),
      );
    expect(jobs.map(numeric)).toEqual([job]);
    expect(txs.map(numeric)).toEqual([tx]);

    // One live job per (chain, checkpoint): while the final one counts, no second job.
    const again = { id: newId(), chain: 'local', chainId: 31337, treeSize: 1, now: 10 };
    expect(await insertAnchorJob(db, again)).toBe(false);
    await db.updateTable('anchor_jobs').set({ state: 'lost' }).where('id', '=', job.id).execute();
    await db.updateTable('anchor_txs').set({ state: 'lost' }).where('id', '=', tx.id).execute();
    expect(await insertAnchorJob(db, again)).toBe(true);
    expect(await insertAnchorJob(db, { ...again, id: newId() })).toBe(false);
    expect(
      await failure(
        db
          .insertInto('anchor_jobs')
          .values({ ...job, id: newId(), state: 'pending' })
          .execute(),
      ),
    ).toBe('unique');

    // The rebuilt tables still enforce their foreign keys and CHECKs.
    expect(
      await failure(
        db
          .insertInto('anchor_txs')
          .values({ ...tx, id: newId(), job_id: 'no-such-job', tx_hash: `0x${'56'.repeat(32)}` })
          .execute(),
      ),
    ).toBe('foreign_key');
    expect(
      await failure(
        db
          .insertInto('anchor_jobs')
          .values({ ...job, id: newId(), tree_size: 2 })
          .execute(),
      ),
    ).toBe('foreign_key');
    expect(
      await failure(
        db
          .updateTable('anchor_txs')
          .set({ state: 'vanished' as never })
          .where('id', '=', tx.id)
          .execute(),
      ),
    ).toBe('check');
    expect(
      await failure(
        db
          .insertInto('anchor_txs')
          .values({ ...tx, id: newId() })
          .execute(),
      ),
    ).toMatch(/^(unique|primary_key)$/);
  });
});
