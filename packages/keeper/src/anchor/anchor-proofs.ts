import { listFinalAnchorsWithoutProof, saveAnchorProof } from '@fieldproof/db';
import type { FinalAnchor, FinalAnchorWithoutProof, Schema } from '@fieldproof/db';
import { verifyAnchorProof, type AnchorProof } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';
import { AnchorProofBuildError, buildAnchorProof } from '../chain/build-anchor-proof.js';
import { describeChainError } from '../chain/chain-errors.js';
import { RpcTransportError } from '../chain/json-rpc-client.js';
import type { ChainContext } from './anchor-context.js';

/**
 * Anchor proofs (docs/FORMATS.md §8, docs/ANCHORING.md "Anchor proofs"): when an anchor becomes final
 * the keeper builds the proof that its transaction is in the recorded block, from the node's block and
 * its own signed bytes, and stores it with the final state. Three outcomes:
 *
 * - `built`: the proof is of the recorded block: stored.
 * - `moved`: the node shows the transaction in another block, or in none: never stored (it would prove
 *   another block than the one recorded final); the anchor is followed again like any reorg.
 * - `failed`: the node did not answer, or its data does not hash (nothing is guessed): logged and
 *   counted; the anchor is final without a proof, and `AnchorProofBackfill` tries again on later polls.
 */
export type ProofOutcome =
  | { readonly kind: 'built'; readonly proof: AnchorProof; readonly blockTimestamp: number }
  | { readonly kind: 'moved'; readonly reason: string }
  | { readonly kind: 'failed'; readonly error: unknown };

/** The transaction a proof is built for, and the block recorded for it. */
export interface ProofTarget {
  readonly jobId: string;
  readonly txHash: string;
  readonly rawTx: string;
  readonly blockHash: string;
}

/** Builds the proof of `target` from the chain's node. Never throws. */
export async function buildProofOf(ctx: ChainContext, target: ProofTarget): Promise<ProofOutcome> {
  let proof: AnchorProof;
  try {
    proof = await buildAnchorProof(ctx.client.rpc, target.txHash, { rawTx: target.rawTx });
  } catch (err) {
    if (err instanceof AnchorProofBuildError && (err.check === 'not-mined' || err.check === 'reorged')) {
      return { kind: 'moved', reason: err.message };
    }
    ctx.metrics.proofFailures.inc({ chain: ctx.chain.name });
    const fields = { jobId: target.jobId, txHash: target.txHash, error: describeChainError(err) };
    if (err instanceof RpcTransportError) {
      ctx.logger.warn(fields, 'anchor proof not built: the node did not answer; trying again later');
    } else {
      ctx.warnOnce(
        `proof-failed:${target.txHash}`,
        { ...fields, err },
        'anchor proof not built: the node data does not yield one; trying again on later polls',
      );
    }
    return { kind: 'failed', error: err };
  }
  if (proof.blockHash !== target.blockHash) {
    return {
      kind: 'moved',
      reason: `the node shows transaction ${target.txHash} in block ${proof.blockHash}, not ${target.blockHash}`,
    };
  }
  return { kind: 'built', proof, blockTimestamp: verifyAnchorProof(proof).blockTimestamp };
}

/** Stores a built proof for transaction `txId` if it is still final in that block (in a write trx). */
export async function storeProof(
  ctx: ChainContext,
  trx: Kysely<Schema>,
  txId: string,
  built: Extract<ProofOutcome, { kind: 'built' }>,
): Promise<boolean> {
  return saveAnchorProof(trx, {
    txId,
    chain: ctx.chain.name,
    blockTimestamp: built.blockTimestamp,
    proof: built.proof,
    now: ctx.now(),
  });
}

/** Final anchors looked at per round. */
const BACKFILL_PAGE = 20;

/**
 * A missing proof of a final anchor is work to do: at most every `confirmPollMs`, builds and stores the
 * proofs of final anchors that have none (a node error at finality, a keeper that crashed in between,
 * anchors made before proofs existed). One whose transaction moved is handed to `onMoved` (the final
 * re-check: it follows the anchor again, or marks it lost). A node that does not answer ends the round.
 */
export class AnchorProofBackfill {
  #lastRunAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: ChainContext,
    private readonly onMoved: (anchor: FinalAnchor) => Promise<void>,
  ) {}

  async runOnce(): Promise<void> {
    const { ctx } = this;
    const now = ctx.now();
    if (now - this.#lastRunAt < ctx.settings.confirmPollMs) return;
    this.#lastRunAt = now;
    const missing = await listFinalAnchorsWithoutProof(ctx.database.db, ctx.chain.name, BACKFILL_PAGE);
    for (const anchor of missing) {
      const outcome = await buildProofOf(ctx, anchor);
      if (outcome.kind === 'failed') {
        if (outcome.error instanceof RpcTransportError) return;
        continue;
      }
      if (outcome.kind === 'moved') {
        ctx.logger.warn(
          { jobId: anchor.jobId, txHash: anchor.txHash, reason: outcome.reason },
          'a final anchor is not where it was recorded; re-checking it instead of storing a proof',
        );
        await this.onMoved(finalAnchorOf(anchor));
        continue;
      }
      const stored = await ctx.database.db
        .transaction()
        .execute((trx) => storeProof(ctx, trx, anchor.txId, outcome));
      if (stored) {
        ctx.logger.info(
          { jobId: anchor.jobId, txHash: anchor.txHash, blockNumber: anchor.blockNumber },
          'anchor proof stored (after an earlier attempt failed)',
        );
      }
    }
  }
}

function finalAnchorOf(a: FinalAnchorWithoutProof): FinalAnchor {
  return {
    jobId: a.jobId,
    treeSize: a.treeSize,
    txHash: a.txHash,
    blockNumber: a.blockNumber,
    blockHash: a.blockHash,
  };
}
