import {
  getChainAccount,
  initChainAccount,
  lockChainAccount,
  setChainAccountNonce,
  unminedAnchorNonces,
} from '@fieldproof/db';
import type { Schema } from '@fieldproof/db';
import type { Kysely } from 'kysely';
import type { ChainContext } from './anchor-context.js';

/**
 * Local nonce management (`chain_accounts.next_nonce` per chain and sender).
 *
 * - Initialised once from `eth_getTransactionCount(address, 'pending')`.
 * - A new transaction takes `next_nonce`, skipping nonces held by our unmined transactions, in the same
 *   write transaction that persists the signed bytes (the account row is locked first).
 * - Released (`next_nonce` lowered to it) when the node refused a transaction outright, so no gap
 *   is left; re-synced from the chain when the node says "nonce too low" (up) or "too high" (down).
 *
 * Only one job per chain holds an unmined transaction at a time (the claim query enforces it), so
 * the normal case never skips or releases anything.
 */
export async function ensureChainAccount(ctx: ChainContext): Promise<void> {
  const { db } = ctx.database;
  if ((await getChainAccount(db, ctx.chain.name, ctx.signer.address)) !== undefined) return;
  const pending = await ctx.client.transactionCount(ctx.signer.address, 'pending');
  await initChainAccount(db, {
    chain: ctx.chain.name,
    address: ctx.signer.address,
    chain_id: ctx.chain.chainId,
    next_nonce: pending,
    updated_at: ctx.now(),
  });
  ctx.logger.info({ address: ctx.signer.address, nonce: pending }, 'nonce initialised from the chain');
}

/** Takes the next nonce. Call inside the write transaction that persists the transaction. */
export async function allocateNonce(trx: Kysely<Schema>, ctx: ChainContext): Promise<number> {
  const account = await lockChainAccount(trx, ctx.chain.name, ctx.signer.address, ctx.now());
  if (account === undefined) throw new Error(`no chain_accounts row for ${ctx.chain.name}`);
  const held = new Set(await unminedAnchorNonces(trx, ctx.chain.name));
  let nonce = account.next_nonce;
  while (held.has(nonce)) nonce += 1;
  await setChainAccountNonce(trx, ctx.chain.name, ctx.signer.address, nonce + 1, ctx.now());
  return nonce;
}

/** The chain never took `nonce` (refused outright): hand it out again. */
export async function releaseNonce(trx: Kysely<Schema>, ctx: ChainContext, nonce: number): Promise<void> {
  const account = await lockChainAccount(trx, ctx.chain.name, ctx.signer.address, ctx.now());
  if (account !== undefined && nonce < account.next_nonce) {
    await setChainAccountNonce(trx, ctx.chain.name, ctx.signer.address, nonce, ctx.now());
  }
}

/** Re-sync with the chain's pending count: up after "nonce too low", down after "nonce too high". */
export async function resyncNonce(
  trx: Kysely<Schema>,
  ctx: ChainContext,
  chainPending: number,
  direction: 'up' | 'down',
): Promise<void> {
  const account = await lockChainAccount(trx, ctx.chain.name, ctx.signer.address, ctx.now());
  if (account === undefined) return;
  const next = direction === 'up' ? Math.max(account.next_nonce, chainPending) : chainPending;
  if (next !== account.next_nonce) {
    await setChainAccountNonce(trx, ctx.chain.name, ctx.signer.address, next, ctx.now());
    ctx.logger.warn({ from: account.next_nonce, to: next }, 'nonce re-synced with the chain');
  }
}
