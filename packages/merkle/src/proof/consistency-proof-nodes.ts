import { EmptyTreeError, SizeOrderError } from '../errors.js';
import { shiftRight, trailingZeros } from '../tree/bits.js';
import type { ProofElement } from '../tree/node-id.js';
import { assertSize } from '../validate.js';
import { pathElements } from './path-elements.js';

/**
 * Which stored nodes the consistency proof between the trees of `size1` and `size2` leaves needs, as
 * {@link ProofElement}s in RFC 6962 §2.1.2 order; pass them to {@link buildProof}. O(log n).
 *
 * The proof is the inclusion path, in the tree of `size2`, of the largest perfect node that ends at leaf
 * `size1` — preceded by that node itself unless it is the whole old tree (`size1` a power of two), whose
 * hash the verifier already holds as `root1`. Equal sizes need no nodes.
 *
 * Preconditions: safe integers, `0 < size1 ≤ size2`. `size1 > size2` throws {@link SizeOrderError};
 * `size1 = 0` throws {@link EmptyTreeError}, as {@link verifyConsistency} would reject any such proof.
 */
export function consistencyProofNodes(size1: number, size2: number): ProofElement[] {
  assertSize('size1', size1);
  assertSize('size2', size2);
  if (size2 < size1) throw new SizeOrderError(size1, size2);
  if (size1 === 0) throw new EmptyTreeError(size2);
  if (size1 === size2) return [];
  const level = trailingZeros(size1);
  const index = shiftRight(size1 - 1, level);
  const path = pathElements(level, index, size2);
  return index === 0 ? path : [[{ level, index }], ...path];
}
