import { IndexOutOfRangeError } from '../errors.js';
import type { ProofElement } from '../tree/node-id.js';
import { assertSize } from '../validate.js';
import { pathElements } from './path-elements.js';

/**
 * Which stored nodes the inclusion proof of leaf `leafIndex` in the tree of `treeSize` leaves needs: one
 * {@link ProofElement} per proof hash, bottom up, in RFC 6962 §2.1.1 order. Pass the result to
 * {@link buildProof} with a node store lookup to get the proof. Every node listed ends at or before
 * `treeSize`, so it is already in a store filled by appends up to that size. O(log n).
 * Preconditions: safe integers, `0 ≤ leafIndex < treeSize` (else {@link IndexOutOfRangeError}).
 */
export function inclusionProofNodes(leafIndex: number, treeSize: number): ProofElement[] {
  assertSize('leafIndex', leafIndex);
  assertSize('treeSize', treeSize);
  if (leafIndex >= treeSize) throw new IndexOutOfRangeError(leafIndex, treeSize);
  return pathElements(0, leafIndex, treeSize);
}
