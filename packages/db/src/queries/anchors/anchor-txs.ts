import type { Kysely } from 'kysely';
import { UNMINED_ANCHOR_TX_STATES } from '../../schema/anchor-tables.js';
import type { Schema } from '../../schema/schema.js';
import type { AnchorTxPatch, AnchorTxRow } from './anchor-rows.js';

export type NewAnchorTx = Omit<
  AnchorTxRow,
  'block_number' | 'block_hash' | 'block_timestamp' | 'gas_used' | 'effective_gas_price'
>;

export async function insertAnchorTx(trx: Kysely<Schema>, tx: NewAnchorTx): Promise<void> {
  await trx
    .insertInto('anchor_txs')
    .values({
      ...tx,
      block_number: null,
      block_hash: null,
      block_timestamp: null,
      gas_used: null,
      effective_gas_price: null,
    })
    .execute();
}

export async function updateAnchorTx(trx: Kysely<Schema>, id: string, patch: AnchorTxPatch): Promise<void> {
  await trx.updateTable('anchor_txs').set(patch).where('id', '=', id).execute();
}

export async function getAnchorTxByHash(
  db: Kysely<Schema>,
  txHash: string,
): Promise<AnchorTxRow | undefined> {
  return db.selectFrom('anchor_txs').selectAll().where('tx_hash', '=', txHash).executeTakeFirst();
}

/** Every transaction signed for a job, oldest first. */
export async function listAnchorTxsOfJob(db: Kysely<Schema>, jobId: string): Promise<AnchorTxRow[]> {
  return db
    .selectFrom('anchor_txs')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Every transaction on a chain, oldest first (tests, status pages). */
export async function listAnchorTxsOfChain(db: Kysely<Schema>, chain: string): Promise<AnchorTxRow[]> {
  return db
    .selectFrom('anchor_txs')
    .selectAll()
    .where('chain', '=', chain)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Whether another job of `chain` holds an unmined transaction. */
export async function hasUnminedAnchorTx(
  db: Kysely<Schema>,
  chain: string,
  exceptJobId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('anchor_txs')
    .select('id')
    .where('chain', '=', chain)
    .where('job_id', '<>', exceptJobId)
    .where('state', 'in', UNMINED_ANCHOR_TX_STATES)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Nonces held by unmined transactions on `chain` (skipped when allocating a new one). */
export async function unminedAnchorNonces(db: Kysely<Schema>, chain: string): Promise<number[]> {
  const rows = await db
    .selectFrom('anchor_txs')
    .select('nonce')
    .where('chain', '=', chain)
    .where('state', 'in', UNMINED_ANCHOR_TX_STATES)
    .execute();
  return rows.map((r) => r.nonce);
}
