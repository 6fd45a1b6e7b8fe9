import type { Schema } from '@fieldproof/db';
import type { Kysely } from 'kysely';

/**
 * Reads of the fleet database (a unit-shaped log, `@fieldproof/db`'s Schema) that the collector's fleet
 * intake and the fleet-proofs route need beyond the unit's own queries.
 */

/** Fleet evidence ids by digest (the device note hash), for the digests already in the fleet log. */
export async function fleetEvidenceIdsByDigest(
  db: Kysely<Schema>,
  digests: readonly string[],
): Promise<Map<string, string>> {
  if (digests.length === 0) return new Map();
  const rows = await db
    .selectFrom('evidence')
    .select(['id', 'digest'])
    .where('digest', 'in', digests)
    .execute();
  return new Map(rows.map((r) => [r.digest, r.id]));
}

/** Leaf indices of the sequenced ones among `evidenceIds`. */
export async function fleetLeafIndices(
  db: Kysely<Schema>,
  evidenceIds: readonly string[],
): Promise<Map<string, number>> {
  if (evidenceIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('log_leaves')
    .select(['evidence_id', 'leaf_index'])
    .where('evidence_id', 'in', evidenceIds)
    .execute();
  return new Map(rows.map((r) => [r.evidence_id, Number(r.leaf_index)]));
}

/**
 * One final anchor of a fleet checkpoint, as the fleet-proofs feed walks them: in the order its proof was
 * stored (`anchor_proofs.created_at`, then the transaction id). `fromLeaf`: the leaves it newly covers on
 * its chain start at the largest smaller tree size anchored final there (0 if none), up to `treeSize`.
 */
export interface FinalFleetAnchor {
  readonly proofCreatedAt: number;
  readonly txId: string;
  readonly chain: string;
  readonly treeSize: number;
  readonly fromLeaf: number;
}

/** Final anchors whose (proofCreatedAt, txId) is at or after `from`, in that order, at most `limit`. */
export async function listFinalFleetAnchors(
  db: Kysely<Schema>,
  from: { readonly proofCreatedAt: number; readonly txId: string },
  limit: number,
): Promise<FinalFleetAnchor[]> {
  const rows = await db
    .selectFrom('anchor_proofs as p')
    .innerJoin('anchor_txs as t', 't.id', 'p.tx_id')
    .innerJoin('anchor_jobs as j', 'j.id', 't.job_id')
    .select(['p.created_at', 'p.tx_id', 'j.chain', 'j.tree_size'])
    .select((eb) =>
      eb
        .selectFrom('anchor_jobs as earlier')
        .select((e) => e.fn.max('earlier.tree_size').as('n'))
        .whereRef('earlier.chain', '=', 'j.chain')
        .whereRef('earlier.tree_size', '<', 'j.tree_size')
        .where('earlier.state', '=', 'final')
        .as('from_leaf'),
    )
    .where('t.state', '=', 'final')
    .where('j.state', '=', 'final')
    .where((eb) =>
      eb.or([
        eb('p.created_at', '>', from.proofCreatedAt),
        eb.and([eb('p.created_at', '=', from.proofCreatedAt), eb('p.tx_id', '>=', from.txId)]),
      ]),
    )
    .orderBy('p.created_at')
    .orderBy('p.tx_id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    proofCreatedAt: Number(r.created_at),
    txId: r.tx_id,
    chain: r.chain,
    treeSize: Number(r.tree_size),
    fromLeaf: Number(r.from_leaf ?? 0),
  }));
}
