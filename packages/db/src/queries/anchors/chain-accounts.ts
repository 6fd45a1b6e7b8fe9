import type { Kysely } from 'kysely';
import type { Schema } from '../../schema/schema.js';
import type { ChainAccountRow } from './anchor-rows.js';

/** Local nonce bookkeeping (`chain_accounts`): the next nonce per chain and sender. */

export async function getChainAccount(
  db: Kysely<Schema>,
  chain: string,
  address: string,
): Promise<ChainAccountRow | undefined> {
  return db
    .selectFrom('chain_accounts')
    .selectAll()
    .where('chain', '=', chain)
    .where('address', '=', address)
    .executeTakeFirst();
}

/** Records the first nonce of an account; a no-op when it is already known. */
export async function initChainAccount(db: Kysely<Schema>, account: ChainAccountRow): Promise<void> {
  await db
    .insertInto('chain_accounts')
    .values(account)
    .onConflict((oc) => oc.columns(['chain', 'address']).doNothing())
    .execute();
}

/**
 * Locks an account row for the rest of the write transaction (an UPDATE takes the row lock on
 * PostgreSQL; SQLite's transaction already holds the write lock) and returns it.
 */
export async function lockChainAccount(
  trx: Kysely<Schema>,
  chain: string,
  address: string,
  now: number,
): Promise<ChainAccountRow | undefined> {
  return trx
    .updateTable('chain_accounts')
    .set({ updated_at: now })
    .where('chain', '=', chain)
    .where('address', '=', address)
    .returningAll()
    .executeTakeFirst();
}

export async function setChainAccountNonce(
  trx: Kysely<Schema>,
  chain: string,
  address: string,
  nextNonce: number,
  now: number,
): Promise<void> {
  await trx
    .updateTable('chain_accounts')
    .set({ next_nonce: nextNonce, updated_at: now })
    .where('chain', '=', chain)
    .where('address', '=', address)
    .execute();
}
