import { describe, expect, it } from 'vitest';
import {
  findAnchorProofOfJob,
  listChainFinalizedBlocks,
  listFinalAnchorsWithoutProof,
  migrate,
  newId,
  saveAnchorProof,
  saveChainFinalizedBlock,
} from '@fieldproof/db';
import { addMigration, databaseMigratedTo, testEngines } from '../../../test/support/databases.js';
import { failure, insertFinalAnchor } from '../../../test/support/anchor-rows.js';

/**
 * Migration 0005 adds anchor proofs and the newest finalized block per chain. It runs here on a database
 * migrated to 0004 that already has a final anchor: the anchor is untouched and shows up as a final
 * anchor without a proof (work for the keeper's backfill); a proof can be stored for it, is served while
 * it is final, not once it is lost, and must refer to a real transaction.
 */

const BLOCK_HASH = `0x${'34'.repeat(32)}`; // the block insertFinalAnchor puts the transaction in

describe.each(testEngines())('migration 0005 (anchor_proofs) on %s', (engine) => {
  it('keeps existing anchors, lists a final one as missing its proof, stores and serves it only while final', async () => {
    const { database, dir } = await databaseMigratedTo(engine, 4);
    const { db } = database;
    const { job, tx } = await insertFinalAnchor(db, '0x02aa');

    addMigration(dir, 5);
    expect((await migrate(database, { dir })).map((m) => m.version)).toEqual([5]);
    expect(await db.selectFrom('anchor_jobs').select(['id', 'state']).execute()).toEqual([
      { id: job.id, state: 'final' },
    ]);

    // An anchor made final before proofs existed is work to do.
    expect(await listFinalAnchorsWithoutProof(db, 'local', 10)).toEqual([
      {
        jobId: job.id,
        treeSize: 1,
        txId: tx.id,
        txHash: tx.tx_hash,
        rawTx: tx.raw_tx,
        blockNumber: 7,
        blockHash: BLOCK_HASH,
      },
    ]);
    expect(await findAnchorProofOfJob(db, job.id)).toEqual({ found: 'no-proof', state: 'final' });

    const proof = {
      chainId: 31337,
      blockNumber: 7,
      blockHash: BLOCK_HASH,
      rawHeader: '0xf90200',
      txIndex: 0,
      rawTx: tx.raw_tx,
      txProof: ['0xf851', '0xf871'],
    };
    const save = (p: typeof proof) =>
      db.transaction().execute((trx) =>
        saveAnchorProof(trx, {
          txId: tx.id,
          chain: 'local',
          blockTimestamp: 1_700_000_000_000,
          proof: p,
          now: 9,
        }),
      );
    // A proof of another block than the recorded one is refused.
    expect(await save({ ...proof, blockHash: `0x${'56'.repeat(32)}` })).toBe(false);
    expect(await save(proof)).toBe(true);
    expect(await save(proof)).toBe(true); // a second keeper storing the same proof: replaced, not a conflict
    expect(await listFinalAnchorsWithoutProof(db, 'local', 10)).toEqual([]);
    expect(await findAnchorProofOfJob(db, job.id)).toEqual({ found: 'proof', proof });
    expect(await findAnchorProofOfJob(db, newId())).toEqual({ found: 'no-job' });

    // Lost: kept as history, not served.
    await db.updateTable('anchor_jobs').set({ state: 'lost' }).where('id', '=', job.id).execute();
    await db.updateTable('anchor_txs').set({ state: 'lost' }).where('id', '=', tx.id).execute();
    expect(await findAnchorProofOfJob(db, job.id)).toEqual({ found: 'no-proof', state: 'lost' });
    expect(await db.selectFrom('anchor_proofs').select('tx_id').execute()).toEqual([{ tx_id: tx.id }]);

    // Constraints: a proof belongs to a real transaction.
    const row = {
      tx_id: 'no-such-tx',
      tx_hash: `0x${'78'.repeat(32)}`,
      chain: 'local',
      chain_id: 31337,
      block_number: 7,
      block_hash: BLOCK_HASH,
      block_timestamp: 1,
      raw_header: '0x',
      tx_index: 0,
      tx_proof: '[]',
      created_at: 1,
    };
    expect(await failure(db.insertInto('anchor_proofs').values(row).execute())).toBe('foreign_key');
    expect(
      await failure(
        db
          .insertInto('anchor_proofs')
          .values({ ...row, tx_id: tx.id, tx_index: -1 })
          .execute(),
      ),
    ).toBe('check');

    // The newest finalized block per chain: one row, rewritten with what was seen last.
    const block = {
      chain: 'local',
      chainId: 31337,
      number: 9,
      hash: BLOCK_HASH,
      timestamp: 5000,
      seenAt: 6,
    };
    await saveChainFinalizedBlock(db, block);
    await saveChainFinalizedBlock(db, { ...block, number: 3, seenAt: 7 });
    expect(await listChainFinalizedBlocks(db)).toEqual([{ ...block, number: 3, seenAt: 7 }]);
  });
});
