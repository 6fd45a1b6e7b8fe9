import { EMPTY_ROOT, hashChildren, type Hash } from '../hash/hasher.js';
import { assertHashes } from '../validate.js';

/**
 * Root of the tree whose frontier is given: fold the perfect subtrees right to left,
 * `acc = hashChildren(frontier[i], acc)`. That is exactly RFC 6962's split at the largest power of two,
 * applied from the smallest subtree up. O(log n).
 * Precondition: `frontier` is as {@link appendToFrontier} returns it (left to right, largest first,
 * 32-byte hashes). The empty frontier is the empty tree, whose root is {@link EMPTY_ROOT}.
 */
export function rootFromFrontier(frontier: readonly Hash[]): Hash {
  assertHashes('frontier', frontier);
  return foldRightToLeft(frontier) ?? EMPTY_ROOT;
}

/** Right-to-left fold shared with proof building; `undefined` for an empty list. */
export function foldRightToLeft(hashes: readonly Hash[]): Hash | undefined {
  if (hashes.length === 0) return undefined;
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i]!, acc);
  return acc;
}
