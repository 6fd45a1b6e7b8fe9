import { classifyDbError, newId } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';

/**
 * Rows written straight into the tables, for migration tests that need data a migration must carry over:
 * checkpoint 1, one `final` anchor job for it on chain `local`, and its `final` transaction in block 7.
 */
export async function insertFinalAnchor(db: Database['db'], rawTx: string) {
  await db
    .insertInto('log_checkpoints')
    .values({ tree_size: 1, root_hash: 'ab'.repeat(32), origin: 'o', signed_note: 'n', created_at: 1 })
    .execute();
  const job = {
    id: newId(),
    chain: 'local',
    chain_id: 31337,
    tree_size: 1,
    state: 'final' as const,
    attempts: 0,
    next_attempt_at: 5,
    lease_owner: null,
    lease_expires_at: null,
    lease_token: 3,
    last_error: null,
    created_at: 1,
    updated_at: 2,
  };
  const tx = {
    id: newId(),
    job_id: job.id,
    chain: 'local',
    chain_id: 31337,
    from_address: '0xabc',
    nonce: 0,
    tx_hash: `0x${'12'.repeat(32)}`,
    raw_tx: rawTx,
    max_fee_per_gas: '3000000000',
    max_priority_fee_per_gas: '1000000000',
    state: 'final' as const,
    block_number: 7,
    block_hash: `0x${'34'.repeat(32)}`,
    block_timestamp: 1_700_000_000_000,
    gas_used: '23930',
    effective_gas_price: '2000000000',
    created_at: 1,
    updated_at: 2,
  };
  await db.insertInto('anchor_jobs').values(job).execute();
  await db.insertInto('anchor_txs').values(tx).execute();
  return { job, tx };
}

/** The database's kind of refusal of `work` (`check`, `unique`, `foreign-key`, …), or `none`. */
export async function failure(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    return classifyDbError(err);
  }
  return 'none';
}
