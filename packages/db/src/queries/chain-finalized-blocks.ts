import type { Kysely } from 'kysely';
import type { Schema } from '../schema/schema.js';

/**
 * The newest finalized block the keeper saw on each chain (`chain_finalized_blocks`): written at
 * confirmation polls when it changed, read by readiness (and, next, by the api for a record's "written
 * after" bound).
 */
export interface ChainFinalizedBlock {
  readonly chain: string;
  readonly chainId: number;
  readonly number: number;
  readonly hash: string;
  /** Header timestamp in ms. */
  readonly timestamp: number;
  /** When the keeper saw it (ms). */
  readonly seenAt: number;
}

/** Records what the keeper sees now, even if lower than before: a reset chain's old block is not canonical. */
export async function saveChainFinalizedBlock(db: Kysely<Schema>, block: ChainFinalizedBlock): Promise<void> {
  const values = {
    chain_id: block.chainId,
    block_number: block.number,
    block_hash: block.hash,
    block_timestamp: block.timestamp,
    seen_at: block.seenAt,
  };
  await db
    .insertInto('chain_finalized_blocks')
    .values({ chain: block.chain, ...values })
    .onConflict((oc) => oc.column('chain').doUpdateSet(values))
    .execute();
}

export async function listChainFinalizedBlocks(db: Kysely<Schema>): Promise<ChainFinalizedBlock[]> {
  const rows = await db.selectFrom('chain_finalized_blocks').selectAll().orderBy('chain').execute();
  return rows.map((r) => ({
    chain: r.chain,
    chainId: r.chain_id,
    number: r.block_number,
    hash: r.block_hash,
    timestamp: r.block_timestamp,
    seenAt: r.seen_at,
  }));
}
