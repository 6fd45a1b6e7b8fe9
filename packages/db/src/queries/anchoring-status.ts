import type { Kysely } from 'kysely';
import {
  ANCHOR_JOB_STATE_RANK,
  LIVE_ANCHOR_TX_STATES,
  MINED_ANCHOR_JOB_STATES,
} from '../schema/anchor-tables.js';
import type { AnchorJobState } from '../schema/anchor-tables.js';
import type { Schema } from '../schema/schema.js';
import type { EvidenceStatus, StatusBounds } from './evidence.js';
import { largestFinalFleetTreeSize, listSmallestFinalFleetProofs } from './fleet-proofs.js';
import type { StoredFleetProof } from './fleet-proofs.js';

/**
 * Anchoring status is derived, never stored: the keeper writes `anchor_jobs` (one per checkpoint and
 * chain) and `anchor_txs`; an anchor of tree size N covers leaves 0..N-1. A leaf's state on a chain is
 * the best state of any job on that chain with `tree_size > leafIndex`.
 *
 * Stub anchors (chain id 0: no chain at all) are listed per chain but never raise a leaf's overall
 * status: nothing is "anchored" or "final" without a chain.
 *
 * Fleet proofs (`fleet_proofs`, issue 16) count as anchors too: a checkpoint of N leaves with a stored
 * final fleet proof makes leaves 0 … N−1 final, through the collector's anchor of its fleet checkpoint.
 */

export interface ChainAnchoring {
  readonly chain: string;
  readonly chainId: number;
  readonly state: AnchorJobState;
  /** Tree size of the anchored checkpoint that covers the leaf. */
  readonly treeSize: number;
  readonly txHash: string | null;
  readonly blockNumber: number | null;
  readonly blockHash: string | null;
  readonly blockTimestamp: number | null;
  /** The fleet collector this anchor came through (its fleet checkpoint's anchor); absent: the unit's own. */
  readonly via?: string;
}

/**
 * Per chain, the best anchoring state of the leaf at `leafIndex` (see the module comment), with the
 * transaction that carries it. One grouped query (rows: chains × states) plus one for the transactions;
 * then, per fleet collector, the anchors of the smallest fleet-final checkpoint covering the leaf.
 */
export async function anchoringOfLeaf(db: Kysely<Schema>, leafIndex: number): Promise<ChainAnchoring[]> {
  const fleet = (await listSmallestFinalFleetProofs(db, leafIndex + 1)).flatMap(fleetAnchoringOf);
  return [...(await directAnchoringOfLeaf(db, leafIndex)), ...fleet];
}

async function directAnchoringOfLeaf(db: Kysely<Schema>, leafIndex: number): Promise<ChainAnchoring[]> {
  const groups = await db
    .selectFrom('anchor_jobs')
    .select(['chain', 'chain_id', 'state'])
    .select((eb) => eb.fn.min('tree_size').as('tree_size'))
    .where('tree_size', '>', leafIndex)
    .groupBy(['chain', 'chain_id', 'state'])
    .execute();
  const best = new Map<string, { chain: string; chainId: number; state: AnchorJobState; treeSize: number }>();
  for (const g of groups) {
    const treeSize = g.tree_size;
    const current = best.get(g.chain);
    const better =
      current === undefined ||
      ANCHOR_JOB_STATE_RANK[g.state] > ANCHOR_JOB_STATE_RANK[current.state] ||
      (g.state === current.state && treeSize < current.treeSize);
    if (better) best.set(g.chain, { chain: g.chain, chainId: g.chain_id, state: g.state, treeSize });
  }
  if (best.size === 0) return [];
  const chosen = [...best.values()].sort((a, b) => a.chain.localeCompare(b.chain));
  const txs = await db
    .selectFrom('anchor_jobs')
    .innerJoin('anchor_txs', 'anchor_txs.job_id', 'anchor_jobs.id')
    .select([
      'anchor_jobs.chain',
      'anchor_jobs.tree_size',
      'anchor_txs.tx_hash',
      'anchor_txs.state',
      'anchor_txs.block_number',
      'anchor_txs.block_hash',
      'anchor_txs.block_timestamp',
      'anchor_txs.created_at',
    ])
    .where('anchor_txs.state', 'in', LIVE_ANCHOR_TX_STATES)
    .where((eb) =>
      eb.or(
        chosen.map((c) =>
          eb.and([eb('anchor_jobs.chain', '=', c.chain), eb('anchor_jobs.tree_size', '=', c.treeSize)]),
        ),
      ),
    )
    .orderBy('anchor_txs.created_at', 'desc')
    .execute();
  return chosen.map((c) => {
    const forJob = txs.filter((t) => t.chain === c.chain && t.tree_size === c.treeSize);
    // Prefer the transaction that made it into a block; else the newest live one.
    const tx = forJob.find((t) => t.block_number !== null) ?? forJob[0];
    return {
      ...c,
      txHash: tx?.tx_hash ?? null,
      blockNumber: tx?.block_number ?? null,
      blockHash: tx?.block_hash ?? null,
      blockTimestamp: tx?.block_timestamp ?? null,
    };
  });
}

/**
 * The anchors a stored fleet proof carries (its receipt's branches that end in a block), as the leaves of
 * its device checkpoint see them. The receipt was verified before it was stored.
 */
export function fleetAnchoringOf(proof: StoredFleetProof): ChainAnchoring[] {
  const receipt = JSON.parse(proof.receipt) as {
    anchors?: { chain?: string; state?: string; steps?: { type: string; [k: string]: unknown }[] }[];
  };
  return (receipt.anchors ?? []).flatMap((branch) => {
    const steps = branch.steps ?? [];
    const tx = steps.find((st) => st.type === 'anchor-tx');
    const block = steps.find((st) => st.type === 'block');
    if (tx === undefined) return [];
    const proven = steps.some((st) => st.type === 'header');
    return [
      {
        chain: String(branch.chain ?? ''),
        chainId: Number(tx.chainId),
        // Only a proven final branch is final here; a claim is what the collector said, no more.
        state: proven && branch.state === 'final' ? 'final' : block === undefined ? 'broadcast' : 'included',
        treeSize: proof.treeSize,
        txHash: String(tx.txHash),
        blockNumber: block === undefined ? null : Number(block.number),
        blockHash: block === undefined ? null : String(block.hash),
        blockTimestamp: block === undefined ? null : Number(block.timestamp),
        via: proof.collector,
      },
    ];
  });
}

/**
 * The leaf-index bounds of each status over all real chains: a leaf below the largest tree size anchored
 * `final` on any chain, or with a final fleet proof, is final, and so on (an anchor of size N covers
 * every leaf below N).
 */
export async function statusBounds(db: Kysely<Schema>): Promise<StatusBounds> {
  const direct = await directStatusBounds(db);
  const final = Math.max(direct.final, await largestFinalFleetTreeSize(db));
  return {
    final,
    confirmed: Math.max(final, direct.confirmed),
    anchored: Math.max(final, direct.anchored),
  };
}

/** {@link statusBounds} of this unit's own anchors alone (fleet proofs left out): what receipts start from. */
export async function directStatusBounds(db: Kysely<Schema>): Promise<StatusBounds> {
  const rows = await db
    .selectFrom('anchor_jobs')
    .select('state')
    .select((eb) => eb.fn.max('tree_size').as('tree_size'))
    .where('state', 'in', MINED_ANCHOR_JOB_STATES)
    .where('chain_id', '<>', 0)
    .groupBy('state')
    .execute();
  const size = (state: AnchorJobState) => rows.find((r) => r.state === state)?.tree_size ?? 0;
  const final = size('final');
  const confirmed = Math.max(final, size('confirmed'));
  const anchored = Math.max(confirmed, size('included'));
  return { anchored, confirmed, final };
}

/** A leaf's overall status from the bounds; `null` leaf index means not sequenced yet. */
export function evidenceStatusOf(leafIndex: number | null, bounds: StatusBounds): EvidenceStatus {
  if (leafIndex === null) return 'pending';
  if (leafIndex < bounds.final) return 'final';
  if (leafIndex < bounds.confirmed) return 'confirmed';
  if (leafIndex < bounds.anchored) return 'anchored';
  return 'sequenced';
}

/** A leaf's overall status from its per-chain anchoring (same rule as `statusBounds`). */
export function evidenceStatusFromChains(
  leafIndex: number | null,
  chains: readonly ChainAnchoring[],
): EvidenceStatus {
  if (leafIndex === null) return 'pending';
  const real = chains.filter((c) => c.chainId !== 0);
  if (real.some((c) => c.state === 'final')) return 'final';
  if (real.some((c) => c.state === 'confirmed')) return 'confirmed';
  if (real.some((c) => c.state === 'included')) return 'anchored';
  return 'sequenced';
}
