import { EmptyTreeError, ProofLengthError, RootMismatchError, SizeOrderError } from '../errors.js';
import type { Hash } from '../hash/hasher.js';
import { shiftRight, trailingZeros } from '../tree/bits.js';
import { assertHash, assertHashes, assertSize, bytesEqual } from '../validate.js';
import { chainBorderRight, chainInner, chainInnerRight, decomposeInclusionProof } from './chain.js';

function assertSizes(size1: number, size2: number): void {
  assertSize('size1', size1);
  assertSize('size2', size2);
  if (size2 < size1) throw new SizeOrderError(size1, size2);
  // Every tree extends the empty tree, so a "proof" from size 0 proves nothing. Rejecting it (even for
  // size2 = 0) keeps a caller from believing a check happened; the project's vectors require this.
  if (size1 === 0) throw new EmptyTreeError(size2);
}

/**
 * Checks the consistency proof from the tree of `size1` leaves (root `root1`) and returns the root of the
 * tree of `size2` leaves it implies (RFC 9162 §2.1.4.2). Only meaningful once that result is compared with
 * a trusted `root2`: see {@link verifyConsistency}.
 *
 * The proof is a suffix of the inclusion proof of leaf `size1 − 1` in the tree of `size2`, starting at the
 * level of the largest perfect node ending at `size1`, prefixed with that node unless it is the whole old
 * tree. Hashing only the left siblings must rebuild `root1` (else {@link RootMismatchError} for `root1`);
 * hashing all of them gives the new root.
 *
 * Preconditions: safe integers with `0 < size1 ≤ size2` ({@link SizeOrderError},
 * {@link EmptyTreeError}); 32-byte `root1` and proof hashes ({@link InvalidHashError}); exact proof
 * length ({@link ProofLengthError}). For `size1 = size2` the proof must be empty and `root1` is returned.
 */
export function rootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Hash[],
  root1: Hash,
): Hash {
  assertSizes(size1, size2);
  assertHash('root1', root1);
  if (size1 === size2) {
    if (proof.length !== 0) throw new ProofLengthError(0, proof.length);
    return root1;
  }

  const { inner: fullInner, border } = decomposeInclusionProof(size1 - 1, size2);
  // Levels below `shift` lie inside the perfect node ending at size1, which the proof gives whole.
  const shift = trailingZeros(size1);
  const inner = fullInner - shift;
  const seedInProof = size1 !== 2 ** shift;
  const start = seedInProof ? 1 : 0;
  if (proof.length !== start + inner + border)
    throw new ProofLengthError(start + inner + border, proof.length);
  assertHashes('proof', proof);

  const seed = seedInProof ? proof[0]! : root1;
  const innerPart = proof.slice(start, start + inner);
  const borderPart = proof.slice(start + inner);
  const mask = shiftRight(size1 - 1, shift);

  const hash1 = chainBorderRight(chainInnerRight(seed, innerPart, mask), borderPart);
  if (!bytesEqual(hash1, root1)) throw new RootMismatchError(root1, hash1, 'root1');
  return chainBorderRight(chainInner(seed, innerPart, mask), borderPart);
}

/**
 * Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves with root
 * `root1`, i.e. is the same log with leaves only appended (RFC 9162 §2.1.4.2). Returns nothing; throws
 * {@link RootMismatchError} naming the root that did not match, or the errors of
 * {@link rootFromConsistencyProof}.
 *
 * When `size1 = size2` nothing is hashed: the proof must be empty and the two roots are compared as given,
 * without a length check (as in transparency-dev/merkle; the project vectors accept any equal pair).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Hash[],
  root1: Hash,
  root2: Hash,
): void {
  assertSizes(size1, size2);
  if (size1 === size2) {
    if (proof.length !== 0) throw new ProofLengthError(0, proof.length);
    if (!bytesEqual(root1, root2)) throw new RootMismatchError(root2, root1, 'root2');
    return;
  }
  assertHash('root2', root2);
  const calculated = rootFromConsistencyProof(size1, size2, proof, root1);
  if (!bytesEqual(calculated, root2)) throw new RootMismatchError(root2, calculated, 'root2');
}
