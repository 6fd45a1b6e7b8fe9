import type { Schema } from '@fieldproof/db';
import { inclusionProofNodes } from '@fieldproof/merkle';
import type { Hash } from '@fieldproof/merkle';
import type { Kysely } from 'kysely';
import { readProof } from './read-proof.js';

/**
 * The RFC 9162 inclusion proof of leaf `leafIndex` in the tree of the first `treeSize` leaves, read from
 * the log store with one query for O(log n) nodes.
 * Preconditions: `0 ≤ leafIndex < treeSize` (else the merkle package's `IndexOutOfRangeError`) and the
 * store holds at least `treeSize` leaves (else {@link LogInconsistencyError}).
 */
export async function inclusionProofFor(
  db: Kysely<Schema>,
  leafIndex: number,
  treeSize: number,
): Promise<Hash[]> {
  return readProof(db, inclusionProofNodes(leafIndex, treeSize), treeSize);
}
