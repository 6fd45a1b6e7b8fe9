import { hashChildren, type Hash } from '../hash/hasher.js';
import { bitLength, popCount, shiftRight, xor } from '../tree/bits.js';

// The chaining steps of RFC 9162 §2.1.3.2 / §2.1.4.2 in the decomposed form of transparency-dev/merkle
// `proof/verify.go`: an inclusion proof for `index` in a tree of `size` splits into
// - an inner part, below the level where the paths to `index` and to the last leaf `size − 1` diverge,
//   where bit `i` of `index` says on which side proof hash `i` goes, and
// - a border part, above it, on the tree's right border: every hash there is a left sibling.
// Working out the split up front gives the exact proof length before any hashing.

/** Lengths of the inner and border parts of the inclusion proof for `index` in a tree of `size`. */
export function decomposeInclusionProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  const border = popCount(shiftRight(index, inner));
  return { inner, border };
}

/** Climbs from `seed` (the node at `index` on its level) through inner proof hashes, bottom up. */
export function chainInner(seed: Hash, proof: readonly Hash[], index: number): Hash {
  let hash = seed;
  let bits = index;
  for (const sibling of proof) {
    hash = bits % 2 === 0 ? hashChildren(hash, sibling) : hashChildren(sibling, hash);
    bits = Math.floor(bits / 2);
  }
  return hash;
}

/**
 * Like {@link chainInner} but uses only the left siblings: that rebuilds the same subtree as it was
 * before the leaves to the right of the path were appended, i.e. the old tree's hash.
 */
export function chainInnerRight(seed: Hash, proof: readonly Hash[], index: number): Hash {
  let hash = seed;
  let bits = index;
  for (const sibling of proof) {
    if (bits % 2 === 1) hash = hashChildren(sibling, hash);
    bits = Math.floor(bits / 2);
  }
  return hash;
}

/** Climbs the right border: every border proof hash is a left sibling. */
export function chainBorderRight(seed: Hash, proof: readonly Hash[]): Hash {
  let hash = seed;
  for (const sibling of proof) hash = hashChildren(sibling, hash);
  return hash;
}
