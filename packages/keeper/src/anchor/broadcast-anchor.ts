import { updateAnchorTx } from '@fieldproof/db';
import type { AnchorJobRow, AnchorTxRow, Schema } from '@fieldproof/db';
import type { Kysely } from 'kysely';
import { classifyChainError, describeChainError, type ChainErrorKind } from '../chain/chain-errors.js';
import type { ChainContext, JobLease } from './anchor-context.js';
import { failJob } from './job-failure.js';
import { releaseJob } from './job-lease.js';
import { releaseNonce, resyncNonce } from './nonces.js';

/**
 * Broadcasts the persisted bytes of `variant` (never re-signs). Resolves true when the node accepted
 * them or already had them. A transport error is rethrown: the outcome is unknown and the next round
 * reconciles by hash. Any other rejection is handled here (the job is released) and resolves false.
 *
 * `group`: every row of the job with the variant's nonce (older fee variants included).
 */
export async function broadcastVariant(
  ctx: ChainContext,
  job: AnchorJobRow,
  lease: JobLease,
  group: readonly AnchorTxRow[],
  variant: AnchorTxRow,
): Promise<boolean> {
  try {
    await ctx.client.sendRawTransaction(variant.raw_tx);
  } catch (err) {
    const kind = classifyChainError(err);
    if (kind === 'transport') throw err;
    if (kind !== 'already-known') {
      await handleRejection(ctx, job, lease, group, variant, kind, describeChainError(err));
      return false;
    }
  }
  await ctx.atPoint('after-broadcast');
  return true;
}

async function handleRejection(
  ctx: ChainContext,
  job: AnchorJobRow,
  lease: JobLease,
  group: readonly AnchorTxRow[],
  variant: AnchorTxRow,
  kind: ChainErrorKind,
  message: string,
): Promise<void> {
  const log = ctx.logger.child({ jobId: job.id, txHash: variant.tx_hash, nonce: variant.nonce, kind });
  const others = group.filter((t) => t.id !== variant.id && t.state !== 'failed' && t.state !== 'dropped');
  const now = ctx.now();

  if (
    kind === 'nonce-too-low' ||
    kind === 'nonce-too-high' ||
    (kind === 'replacement-underpriced' && others.length === 0)
  ) {
    // "Nonce too low" is a success path when one of our variants is the transaction that used it.
    for (const t of group) {
      if ((await ctx.client.receipt(t.tx_hash)) !== null) {
        log.info('nonce already used by our own anchor transaction; following it');
        await releaseJob(ctx, lease, { next_attempt_at: now });
        return;
      }
    }
    // Someone else used the nonce (or, too high, there is a gap): abandon this nonce, re-sync, re-sign.
    const pending = await ctx.client.transactionCount(ctx.signer.address, 'pending');
    log.warn(
      { chainPendingNonce: pending },
      'nonce not usable; dropping the transaction and re-syncing the nonce',
    );
    await failJob(ctx, job, lease, { kind, message, hasCurrentTx: false }, async (trx) => {
      for (const t of group)
        if (t.state !== 'failed') await updateAnchorTx(trx, t.id, { state: 'dropped', updated_at: now });
      await resyncNonce(trx, ctx, pending, kind === 'nonce-too-high' ? 'down' : 'up');
    });
    return;
  }

  if (others.length > 0) {
    // A fee replacement the node refused: the previous variant stays the current one.
    const previous = others[others.length - 1]!;
    log.warn('replacement refused; keeping the previous transaction');
    await failJob(
      ctx,
      job,
      lease,
      { kind, message, hasCurrentTx: true, state: 'broadcast' },
      async (trx: Kysely<Schema>) => {
        await updateAnchorTx(trx, variant.id, { state: 'failed', updated_at: now });
        await updateAnchorTx(trx, previous.id, { state: 'broadcast', updated_at: previous.updated_at });
      },
    );
    return;
  }

  // The only transaction for this nonce was refused outright: the chain never took the nonce.
  log.warn('anchor transaction refused by the node');
  await failJob(ctx, job, lease, { kind, message, hasCurrentTx: false }, async (trx) => {
    await updateAnchorTx(trx, variant.id, { state: 'failed', updated_at: now });
    await releaseNonce(trx, ctx, variant.nonce);
  });
}
