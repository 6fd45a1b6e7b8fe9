import { EMPTY_ROOT, hashChildren, type Hash } from '../hash/hasher.js';
import { assertHashes } from '../validate.js';

/**
 * The Merkle tree hash MTH (RFC 6962 §2.1) of a whole list of leaf hashes, computed level by level in
 * O(n). An unpaired last node is promoted to the next level unchanged, never paired with a copy of
 * itself: duplicating it would give `[a, b, c]` and `[a, b, c, c]` the same root.
 * Precondition: every element is a 32-byte leaf hash (throws {@link InvalidHashError} otherwise).
 * For a growing log use {@link appendToFrontier}, which costs O(batch + log n) per append instead.
 */
export function rootFromLeafHashes(leafHashes: readonly Hash[]): Hash {
  assertHashes('leafHashes', leafHashes);
  if (leafHashes.length === 0) return EMPTY_ROOT;
  let level: readonly Hash[] = leafHashes;
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}
