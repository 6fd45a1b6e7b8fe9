import {
  findCheckpointToAnchor,
  getAnchorTxByHash,
  hasUnminedAnchorTx,
  insertAnchorTx,
  newId,
  updateAnchorJob,
  updateAnchorTx,
} from '@fieldproof/db';
import type { AnchorJobRow, AnchorTxRow } from '@fieldproof/db';
import { encodeAnchorPayload } from '@fieldproof/receipt';
import { hexlify, getBytes } from 'ethers';
import { suggestFees, initialFees } from '../chain/fees.js';
import type { ChainContext, JobLease } from './anchor-context.js';
import { broadcastVariant } from './broadcast-anchor.js';
import { LeaseLostError, releaseJob, withFence } from './job-lease.js';
import { allocateNonce, ensureChainAccount } from './nonces.js';

/** Gas estimates get this much headroom (a plain-calldata transfer needs none; a contract may). */
const GAS_HEADROOM_PERCENT = 20n;

/** The gas limit an anchor is signed with, from the node's estimate. */
export function withGasHeadroom(estimate: bigint): bigint {
  return estimate + (estimate * GAS_HEADROOM_PERCENT) / 100n;
}

/**
 * The job has no live transaction: sign one for its checkpoint and broadcast it.
 *
 * Network reads (fees, gas, the first nonce) happen before the write transaction; inside it the nonce
 * is allocated, the transaction signed locally and persisted `signed` with its raw bytes, hash, nonce
 * and fees. Only after that commit are the bytes broadcast. A crash anywhere leaves either nothing or
 * persisted bytes that the next round re-broadcasts — never a second signature for the job.
 */
export async function sendNewAnchor(ctx: ChainContext, job: AnchorJobRow, lease: JobLease): Promise<void> {
  const now = ctx.now();
  const checkpoint = await findCheckpointToAnchor(ctx.database.db, job.tree_size);
  if (checkpoint === undefined) throw new Error(`checkpoint of tree size ${job.tree_size} not found`);
  const data = hexlify(
    encodeAnchorPayload({
      origin: checkpoint.origin,
      treeSize: checkpoint.treeSize,
      root: getBytes(`0x${checkpoint.rootHash}`),
    }),
  );
  const to = ctx.chain.anchorAddress ?? ctx.signer.address;

  const fees = initialFees(await suggestFees(ctx.client), ctx.chain.maxFeePerGasWei);
  if (fees === undefined) {
    const message = `current fees exceed the cap of ${ctx.chain.maxFeePerGasWei} wei per gas; waiting`;
    ctx.warnOnce(`cap:${job.id}`, { jobId: job.id }, message);
    await releaseJob(ctx, lease, { last_error: message, next_attempt_at: now + ctx.settings.confirmPollMs });
    return;
  }
  const estimate = await ctx.client.estimateGas({ from: ctx.signer.address, to, data });
  const gasLimit = withGasHeadroom(estimate);
  await ensureChainAccount(ctx);

  const tx = await withFence(ctx, lease, async (trx): Promise<AnchorTxRow | undefined> => {
    // Another worker may have started a transaction on this chain since the claim.
    if (await hasUnminedAnchorTx(trx, ctx.chain.name, job.id)) return undefined;
    const nonce = await allocateNonce(trx, ctx);
    const signed = await ctx.signer.sign({ chainId: ctx.chain.chainId, nonce, to, data, gasLimit, fees });
    const row: AnchorTxRow = {
      id: newId(),
      job_id: job.id,
      chain: ctx.chain.name,
      chain_id: ctx.chain.chainId,
      from_address: ctx.signer.address,
      nonce,
      tx_hash: signed.hash,
      raw_tx: signed.raw,
      max_fee_per_gas: fees.maxFeePerGas.toString(),
      max_priority_fee_per_gas: fees.maxPriorityFeePerGas.toString(),
      state: 'signed',
      block_number: null,
      block_hash: null,
      block_timestamp: null,
      gas_used: null,
      effective_gas_price: null,
      created_at: now,
      updated_at: now,
    };
    // Signing is deterministic (RFC 6979): the same nonce, fees and data give the same bytes. A
    // transaction refused earlier and signed again is that same row, signed once more.
    const again = await getAnchorTxByHash(trx, signed.hash);
    if (again === undefined) await insertAnchorTx(trx, row);
    else await updateAnchorTx(trx, again.id, { state: 'signed', updated_at: now });
    if (!(await updateAnchorJob(trx, job.id, lease.token, { state: 'signed', updated_at: now }))) {
      throw new LeaseLostError(job.id, lease.token);
    }
    return again === undefined ? row : { ...row, id: again.id, created_at: again.created_at };
  });
  if (tx === undefined) {
    await releaseJob(ctx, lease, { next_attempt_at: now + ctx.settings.confirmPollMs });
    return;
  }
  ctx.logger.info(
    {
      jobId: job.id,
      treeSize: job.tree_size,
      txHash: tx.tx_hash,
      nonce: tx.nonce,
      maxFeePerGas: tx.max_fee_per_gas,
    },
    'anchor transaction signed and persisted',
  );
  await ctx.atPoint('after-persist');
  if (await broadcastVariant(ctx, { ...job, state: 'signed' }, lease, [tx], tx)) {
    await markBroadcast(ctx, lease, tx);
  }
}

/** Records that the node has `tx` (state broadcast) and ends the claim until the next poll. */
export async function markBroadcast(ctx: ChainContext, lease: JobLease, tx: AnchorTxRow): Promise<void> {
  const now = ctx.now();
  await releaseJob(
    ctx,
    lease,
    { state: 'broadcast', attempts: 0, last_error: null, next_attempt_at: now + ctx.settings.confirmPollMs },
    async (trx) => {
      if (tx.state !== 'broadcast') {
        await updateAnchorTx(trx, tx.id, {
          state: 'broadcast',
          block_number: null,
          block_hash: null,
          block_timestamp: null,
          updated_at: now,
        });
      }
    },
  );
  ctx.logger.info(
    { jobId: lease.jobId, txHash: tx.tx_hash, nonce: tx.nonce },
    'anchor transaction broadcast',
  );
}
