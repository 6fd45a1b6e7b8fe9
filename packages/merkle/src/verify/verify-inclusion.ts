import { IndexOutOfRangeError, ProofLengthError, RootMismatchError } from '../errors.js';
import type { Hash } from '../hash/hasher.js';
import { assertHash, assertHashes, assertSize, bytesEqual } from '../validate.js';
import { chainBorderRight, chainInner, decomposeInclusionProof } from './chain.js';

/**
 * The root that an inclusion proof implies for `leafHash` at `leafIndex` in a tree of `treeSize` leaves
 * (RFC 9162 §2.1.3.2). Only meaningful once compared with a trusted root: see {@link verifyInclusion}.
 * Preconditions, each checked and thrown as its error class: safe integers with
 * `0 ≤ leafIndex < treeSize` ({@link IndexOutOfRangeError}); 32-byte `leafHash` and proof hashes
 * ({@link InvalidHashError}); exactly the proof length the sizes imply ({@link ProofLengthError}).
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Hash,
  proof: readonly Hash[],
): Hash {
  assertSize('leafIndex', leafIndex);
  assertSize('treeSize', treeSize);
  if (leafIndex >= treeSize) throw new IndexOutOfRangeError(leafIndex, treeSize);
  assertHash('leafHash', leafHash);
  const { inner, border } = decomposeInclusionProof(leafIndex, treeSize);
  if (proof.length !== inner + border) throw new ProofLengthError(inner + border, proof.length);
  assertHashes('proof', proof);
  const innerRoot = chainInner(leafHash, proof.slice(0, inner), leafIndex);
  return chainBorderRight(innerRoot, proof.slice(inner));
}

/**
 * Checks that `proof` proves `leafHash` is the leaf at `leafIndex` of the tree of `treeSize` leaves whose
 * root is `root` (RFC 9162 §2.1.3.2). Returns nothing; throws {@link RootMismatchError} when the proof
 * leads elsewhere, and the errors of {@link rootFromInclusionProof} (or {@link InvalidHashError} for a
 * malformed `root`) when the inputs cannot form a proof.
 *
 * Note `treeSize` is bound by `root`, not by the proof: the same proof can fit several sizes (leaf 0 of 5
 * or of 6 leaves follows the same path). Take `treeSize` and `root` together from one signed checkpoint.
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Hash,
  proof: readonly Hash[],
  root: Hash,
): void {
  assertHash('root', root);
  const calculated = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof);
  if (!bytesEqual(calculated, root)) throw new RootMismatchError(root, calculated, 'root');
}
