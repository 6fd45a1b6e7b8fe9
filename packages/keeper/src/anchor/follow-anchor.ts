import {
  deleteAnchorProof,
  hasLiveAnchorJobCovering,
  insertAnchorJob,
  newId,
  updateAnchorJob,
  updateAnchorTx,
} from '@fieldproof/db';
import type { AnchorJobRow, AnchorJobState, AnchorTxRow, AnchorTxState } from '@fieldproof/db';
import type { ChainReceipt } from '../chain/evm-chain-client.js';
import type { ChainContext, JobLease } from './anchor-context.js';
import { buildProofOf, storeProof, type ProofOutcome } from './anchor-proofs.js';
import { broadcastVariant } from './broadcast-anchor.js';
import { bumpStuckAnchor } from './bump-anchor.js';
import { LeaseLostError, releaseJob } from './job-lease.js';
import { markBroadcast } from './send-anchor.js';

/**
 * The job has a current transaction: find out where it is and move the job along.
 *
 * 1. Is any variant of its nonce mined (receipt) in a block that is still canonical
 *    (`eth_getBlockByNumber(n).hash` equals the receipt's block hash)? Then it is included; with
 *    `confirmations` blocks it is confirmed; and final once the `finalized` tag reaches its block (or,
 *    with finality 'confirmations' / a node without the tag in 'auto', at confirmation). Before it is
 *    recorded final, its anchor proof is built (anchor-proofs.ts) and stored with the final state; a node
 *    that shows the transaction in another block then is a reorg, a node error leaves the proof to later.
 * 2. Otherwise, if we had recorded it in a block, that block was reorged away: the transaction is
 *    marked `reorged` and the job goes back to `broadcast`. A job that was already `final` (claimed by
 *    the final re-check, `recheck-final.ts`) is `lost` instead, and its checkpoint is anchored again.
 * 3. A transaction the node does not know (never reached it, dropped from its pool, or reorged out) is
 *    re-broadcast with the same bytes. One the node has but has not mined for `stuckAfterMs` is
 *    replaced with higher fees and the same nonce.
 */
export async function followAnchor(
  ctx: ChainContext,
  job: AnchorJobRow,
  lease: JobLease,
  current: AnchorTxRow,
  txs: readonly AnchorTxRow[],
): Promise<void> {
  const group = txs.filter((t) => t.nonce === current.nonce && t.state !== 'failed' && t.state !== 'dropped');
  const mined = await findMinedVariant(ctx, group);
  if (mined !== undefined) return recordMined(ctx, job, lease, group, mined);

  const variant = current;
  if (current.state === 'final') return markLost(ctx, job, lease, current);
  if (current.state === 'included' || current.state === 'confirmed') {
    return markReorged(ctx, lease, current, {
      jobId: job.id,
      txHash: current.tx_hash,
      blockNumber: current.block_number,
      blockHash: current.block_hash,
    });
  }

  const known = await ctx.client.transactionByHash(variant.tx_hash);
  if (known === null) {
    // Signed but never broadcast (a crash), dropped from the pool, or reorged out: same bytes again.
    ctx.logger.info(
      { jobId: job.id, txHash: variant.tx_hash, state: variant.state },
      're-broadcasting anchor transaction',
    );
    if (await broadcastVariant(ctx, job, lease, group, variant)) await markBroadcast(ctx, lease, variant);
    return;
  }
  if (variant.state !== 'broadcast') {
    await markBroadcast(ctx, lease, variant);
    return;
  }
  if (known.blockNumber === null && ctx.now() - variant.updated_at >= ctx.chain.stuckAfterMs) {
    await bumpStuckAnchor(ctx, job, lease, group, variant);
    return;
  }
  await releaseJob(ctx, lease, { next_attempt_at: ctx.now() + ctx.settings.confirmPollMs });
}

/**
 * A mined transaction is no longer where it was recorded (a reorg): it goes back to `reorged` and the
 * job to `broadcast`, and the next step finds where the chain has it now (or re-broadcasts it).
 */
async function markReorged(
  ctx: ChainContext,
  lease: JobLease,
  tx: AnchorTxRow,
  fields: Record<string, unknown>,
): Promise<void> {
  ctx.metrics.reorgs.inc({ chain: ctx.chain.name });
  ctx.logger.warn(fields, 'anchor transaction no longer in the canonical chain (reorg); re-anchoring');
  const now = ctx.now();
  await releaseJob(ctx, lease, { state: 'broadcast', next_attempt_at: now }, async (trx) => {
    await updateAnchorTx(trx, tx.id, { state: 'reorged', updated_at: now });
  });
}

/**
 * The chain no longer has a transaction that was final: it was reset, or reorganised deeper than its
 * finality. What the keeper reported as final is not rewritten: the job and the transaction become
 * `lost` (history, shown as such) and, in the same transaction, a new job anchors the checkpoint again
 * through the normal path (new signature, nonce from the chain: after a reset the old one means nothing)
 * — unless a live job of the chain already anchors a checkpoint at least as large, which covers it.
 * The partial UNIQUE index on (chain, tree_size) keeps that exactly once across keepers.
 */
async function markLost(
  ctx: ChainContext,
  job: AnchorJobRow,
  lease: JobLease,
  tx: AnchorTxRow,
): Promise<void> {
  const now = ctx.now();
  const gone = `transaction ${tx.tx_hash} in block ${tx.block_number} (${tx.block_hash}) is no longer in the chain`;
  let reanchorJobId: string | undefined;
  await releaseJob(
    ctx,
    lease,
    { state: 'lost', next_attempt_at: now, last_error: `lost after final: ${gone}` },
    async (trx) => {
      // Lost first: the new job's (chain, tree_size) is free only once this one no longer counts.
      if (!(await updateAnchorJob(trx, job.id, lease.token, { state: 'lost', updated_at: now }))) {
        throw new LeaseLostError(job.id, lease.token);
      }
      await updateAnchorTx(trx, tx.id, { state: 'lost', updated_at: now });
      if (await hasLiveAnchorJobCovering(trx, job.chain, job.tree_size)) return;
      const id = newId();
      const inserted = await insertAnchorJob(trx, {
        id,
        chain: job.chain,
        chainId: job.chain_id,
        treeSize: job.tree_size,
        now,
      });
      if (inserted) reanchorJobId = id;
    },
  );
  ctx.metrics.lost.inc({ chain: ctx.chain.name });
  ctx.logger.error(
    {
      jobId: job.id,
      treeSize: job.tree_size,
      txHash: tx.tx_hash,
      blockNumber: tx.block_number,
      blockHash: tx.block_hash,
      reanchorJobId,
    },
    `final anchor lost: ${gone} (chain reset, or a reorg deeper than its finality); ${
      reanchorJobId !== undefined
        ? 're-anchoring the checkpoint'
        : 'a newer anchor job of the chain covers the checkpoint'
    }`,
  );
}

interface Mined {
  readonly tx: AnchorTxRow;
  readonly receipt: ChainReceipt;
  readonly blockTimestamp: number;
}

/**
 * The variant of the group the chain mined, in a block that is still canonical. A receipt that points
 * at a block the node no longer has at that height counts as not mined (a reorg).
 */
async function findMinedVariant(
  ctx: ChainContext,
  group: readonly AnchorTxRow[],
): Promise<Mined | undefined> {
  for (const tx of [...group].reverse()) {
    const receipt = await ctx.client.receipt(tx.tx_hash);
    if (receipt === null) continue;
    const block = await ctx.client.getBlock(receipt.blockNumber);
    if (block === null || block.hash !== receipt.blockHash) {
      ctx.logger.warn(
        { txHash: tx.tx_hash, blockNumber: receipt.blockNumber },
        'receipt points at a block that is no longer canonical',
      );
      continue;
    }
    return { tx, receipt, blockTimestamp: block.timestamp * 1000 };
  }
  return undefined;
}

async function recordMined(
  ctx: ChainContext,
  job: AnchorJobRow,
  lease: JobLease,
  group: readonly AnchorTxRow[],
  mined: Mined,
): Promise<void> {
  const now = ctx.now();
  const { receipt, tx } = mined;
  if (receipt.status !== 1) {
    // The nonce is consumed and the anchor contract refused the data: retrying cannot help.
    const message = `permanent error: anchor transaction ${tx.tx_hash} reverted in block ${receipt.blockNumber}`;
    await releaseJob(
      ctx,
      lease,
      { state: 'dead', attempts: job.attempts + 1, last_error: message },
      async (trx) => {
        await updateAnchorTx(trx, tx.id, { ...blockFields(mined), state: 'failed', updated_at: now });
      },
    );
    ctx.logger.error({ jobId: job.id, txHash: tx.tx_hash }, message);
    return;
  }
  const head = await ctx.client.blockNumber();
  const confirmations = head - receipt.blockNumber + 1;
  let state: AnchorJobState & AnchorTxState =
    confirmations >= ctx.chain.confirmations ? 'confirmed' : 'included';
  if (state === 'confirmed') state = (await isFinal(ctx, receipt.blockNumber)) ? 'final' : 'confirmed';

  const changed = tx.state !== state || tx.block_hash !== receipt.blockHash || job.state !== state;
  // Final: its proof (anchor-proofs.ts) is fetched before the write, and stored with the final state.
  let proof: ProofOutcome | undefined;
  if (state === 'final' && changed) {
    await ctx.atPoint('before-proof');
    proof = await buildProofOf(ctx, {
      jobId: job.id,
      txHash: tx.tx_hash,
      rawTx: tx.raw_tx,
      blockHash: receipt.blockHash,
    });
    if (proof.kind === 'moved') {
      const fields = {
        jobId: job.id,
        txHash: tx.tx_hash,
        blockHash: receipt.blockHash,
        reason: proof.reason,
      };
      // What the keeper reported final is not rewritten here: the re-check follows it again.
      if (tx.state === 'final') {
        ctx.logger.warn(fields, 'a final anchor moved again while its proof was built; re-checked later');
        await releaseJob(ctx, lease, {});
        return;
      }
      return markReorged(ctx, lease, tx, fields);
    }
  }
  await releaseJob(
    ctx,
    lease,
    { state, attempts: 0, last_error: null, next_attempt_at: now + ctx.settings.confirmPollMs },
    async (trx) => {
      if (!changed) return;
      // A proof describes the block recorded on its transaction: another block, another proof.
      if (tx.block_hash !== null && tx.block_hash !== receipt.blockHash) await deleteAnchorProof(trx, tx.id);
      await updateAnchorTx(trx, tx.id, { ...blockFields(mined), state, updated_at: now });
      if (proof?.kind === 'built') await storeProof(ctx, trx, tx.id, proof);
      for (const other of group) {
        if (other.id !== tx.id && other.state !== 'replaced') {
          await updateAnchorTx(trx, other.id, { state: 'replaced', updated_at: now });
        }
      }
    },
  );
  if (!changed) return;
  ctx.logger.info(
    {
      jobId: job.id,
      treeSize: job.tree_size,
      txHash: tx.tx_hash,
      blockNumber: receipt.blockNumber,
      confirmations,
      state,
      ...(proof === undefined ? {} : { proof: proof.kind === 'built' ? 'stored' : 'missing' }),
    },
    `anchor ${state}`,
  );
  if (state === 'final') {
    ctx.metrics.gasUsed.inc({ chain: ctx.chain.name }, Number(receipt.gasUsed));
    if (receipt.effectiveGasPrice !== undefined) {
      ctx.metrics.feesPaidWei.inc(
        { chain: ctx.chain.name },
        Number(receipt.gasUsed * receipt.effectiveGasPrice),
      );
    }
  }
}

/**
 * Whether a confirmed block is final. 'confirmations': confirmation is finality. 'tag': only the
 * node's `finalized` block counts. 'auto': the tag where the node answers it, else confirmations.
 */
async function isFinal(ctx: ChainContext, blockNumber: number): Promise<boolean> {
  if (ctx.chain.finality === 'confirmations') return true;
  const finalized = await ctx.client.finalizedBlockNumber();
  if (finalized === undefined) {
    if (ctx.chain.finality === 'auto') return true;
    ctx.warnOnce(
      'no-finalized-tag',
      {},
      "finality 'tag': the node does not answer the 'finalized' block tag; waiting",
    );
    return false;
  }
  return finalized >= blockNumber;
}

function blockFields(mined: Mined) {
  return {
    block_number: mined.receipt.blockNumber,
    block_hash: mined.receipt.blockHash,
    block_timestamp: mined.blockTimestamp,
    gas_used: mined.receipt.gasUsed.toString(),
    effective_gas_price: mined.receipt.effectiveGasPrice?.toString() ?? null,
  };
}
