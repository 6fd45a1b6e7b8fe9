import { FrontierSizeError } from '../errors.js';
import { hashChildren, type Hash } from '../hash/hasher.js';
import { popCount } from '../tree/bits.js';
import type { Node } from '../tree/node-id.js';
import { assertHashes, assertSize } from '../validate.js';

/** What {@link appendToFrontier} returns. */
export interface FrontierAppend {
  /** Frontier of the grown tree: one perfect-subtree hash per set bit of `treeSize`, left to right. */
  readonly frontier: Hash[];
  /** Tree size after the append. */
  readonly treeSize: number;
  /**
   * Every perfect node of level ≥ 1 that the append completed, in the order they were completed (each
   * child before its parent). Level 0 is not repeated here: those are the appended leaf hashes, at indices
   * `oldTreeSize …`. Storing these plus the leaf hashes keeps a store of all perfect nodes, which is what
   * {@link buildProof} needs.
   */
  readonly nodes: Node[];
}

/**
 * Appends leaf hashes to a tree known only by its frontier (its compact range `[0, treeSize)`) and returns
 * the new frontier, size and completed nodes. Pure: the input frontier is not modified.
 *
 * Appending leaf `i` completes one perfect node per trailing 1-bit of `i` (leaf 3 = 0b11 completes (1,1)
 * then (2,0)), each the hash of the frontier's last entry and the node just built. Amortised that is under
 * one hash per leaf, so the cost is O(batch + log n), independent of how large the tree already is.
 *
 * Preconditions: `treeSize` and `treeSize + leafHashes.length` are safe integers ≥ 0; `frontier` has one
 * 32-byte hash per set bit of `treeSize` (else {@link FrontierSizeError}); leaf hashes are 32 bytes.
 */
export function appendToFrontier(
  frontier: readonly Hash[],
  treeSize: number,
  leafHashes: readonly Hash[],
): FrontierAppend {
  assertSize('treeSize', treeSize);
  assertSize('treeSize after append', treeSize + leafHashes.length);
  const expected = popCount(treeSize);
  if (frontier.length !== expected) throw new FrontierSizeError(treeSize, expected, frontier.length);
  assertHashes('frontier', frontier);
  assertHashes('leafHashes', leafHashes);

  const next = frontier.slice();
  const nodes: Node[] = [];
  let size = treeSize;
  for (const leafHash of leafHashes) {
    let hash = leafHash;
    let level = 0;
    let index = size;
    // An odd index is a right child whose left sibling is the frontier's last entry: merge and climb.
    while (index % 2 === 1) {
      hash = hashChildren(next.pop()!, hash);
      level++;
      index = (index - 1) / 2;
      nodes.push({ level, index, hash });
    }
    next.push(hash);
    size++;
  }
  return { frontier: next, treeSize: size, nodes };
}
