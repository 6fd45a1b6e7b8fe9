import { bitAt, bitLength } from './bits.js';
import type { NodeId } from './node-id.js';
import { assertSize } from '../validate.js';

/**
 * The perfect nodes that make up the tree of `treeSize` leaves, left to right: one per set bit of
 * `treeSize`, largest first. Their hashes are the frontier that {@link appendToFrontier} works on; looking
 * them up in a node store rebuilds the frontier (e.g. after a restart) or the root of an earlier size.
 * Precondition: `treeSize` is a safe integer ≥ 0. Empty for the empty tree.
 */
export function frontierNodes(treeSize: number): NodeId[] {
  assertSize('treeSize', treeSize);
  return rangeNodes(0, treeSize);
}

/**
 * Perfect nodes covering leaves `[begin, end)`, left to right, largest first.
 * Precondition (internal): `begin` is a multiple of a power of two larger than `end − begin`, as for the
 * start of any right-edge subtree; then the pieces are one per set bit of `end − begin`.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  const count = end - begin;
  let start = begin;
  for (let level = bitLength(count) - 1; level >= 0; level--) {
    if (!bitAt(count, level)) continue;
    const width = 2 ** level;
    nodes.push({ level, index: start / width });
    start += width;
  }
  return nodes;
}
