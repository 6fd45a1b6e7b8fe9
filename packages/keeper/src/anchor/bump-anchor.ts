import { insertAnchorTx, newId, updateAnchorTx } from '@fieldproof/db';
import type { AnchorJobRow, AnchorTxRow } from '@fieldproof/db';
import { Transaction } from 'ethers';
import { bumpFees, suggestFees, type TxFees } from '../chain/fees.js';
import type { ChainContext, JobLease } from './anchor-context.js';
import { broadcastVariant } from './broadcast-anchor.js';
import { releaseJob, withFence } from './job-lease.js';
import { markBroadcast } from './send-anchor.js';

/**
 * Replaces a stuck transaction: same nonce, same recipient, data and gas limit, both fees raised by at
 * least 12.5 % (and to at least the current suggestion), the fee cap never above the chain's
 * `maxFeePerGasWei`. The new variant is persisted before broadcast like any transaction; the old one
 * becomes `replaced` but is still watched — whichever variant the chain mines wins. At the cap the job
 * keeps waiting for what it has.
 */
export async function bumpStuckAnchor(
  ctx: ChainContext,
  job: AnchorJobRow,
  lease: JobLease,
  group: readonly AnchorTxRow[],
  current: AnchorTxRow,
): Promise<void> {
  const now = ctx.now();
  const log = ctx.logger.child({ jobId: job.id, nonce: current.nonce, txHash: current.tx_hash });
  const parsed = Transaction.from(current.raw_tx);
  const prev: TxFees = {
    type: parsed.type === 2 ? 2 : 0,
    maxFeePerGas: BigInt(current.max_fee_per_gas),
    maxPriorityFeePerGas: BigInt(current.max_priority_fee_per_gas),
  };
  const fees = bumpFees(prev, await suggestFees(ctx.client), ctx.chain.maxFeePerGasWei);
  if (fees === undefined) {
    const message = `stuck since ${now - current.updated_at} ms at the fee cap (${ctx.chain.maxFeePerGasWei} wei per gas); waiting`;
    ctx.warnOnce(
      `cap:${current.id}`,
      { jobId: job.id, txHash: current.tx_hash, maxFeePerGas: current.max_fee_per_gas },
      message,
    );
    await releaseJob(ctx, lease, { last_error: message, next_attempt_at: now + ctx.settings.confirmPollMs });
    return;
  }
  if (parsed.to === null) throw new Error(`anchor transaction ${current.tx_hash} has no recipient`);
  const signed = await ctx.signer.sign({
    chainId: ctx.chain.chainId,
    nonce: current.nonce,
    to: parsed.to,
    data: parsed.data,
    gasLimit: parsed.gasLimit,
    fees,
  });
  const replacement: AnchorTxRow = {
    ...current,
    id: newId(),
    tx_hash: signed.hash,
    raw_tx: signed.raw,
    max_fee_per_gas: fees.maxFeePerGas.toString(),
    max_priority_fee_per_gas: fees.maxPriorityFeePerGas.toString(),
    state: 'signed',
    created_at: now,
    updated_at: now,
  };
  await withFence(ctx, lease, async (trx) => {
    await insertAnchorTx(trx, replacement);
    await updateAnchorTx(trx, current.id, { state: 'replaced', updated_at: now });
  });
  ctx.metrics.feeBumps.inc({ chain: ctx.chain.name });
  log.info(
    {
      replacement: signed.hash,
      maxFeePerGas: replacement.max_fee_per_gas,
      maxPriorityFeePerGas: replacement.max_priority_fee_per_gas,
    },
    'stuck anchor transaction replaced with higher fees (same nonce)',
  );
  await ctx.atPoint('after-persist');
  const variants = [
    ...group.filter((t) => t.id !== current.id),
    { ...current, state: 'replaced' as const },
    replacement,
  ];
  if (await broadcastVariant(ctx, job, lease, variants, replacement))
    await markBroadcast(ctx, lease, replacement);
}
