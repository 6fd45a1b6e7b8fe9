import { bitLength } from '../tree/bits.js';
import { rangeNodes } from '../tree/frontier-nodes.js';
import type { ProofElement } from '../tree/node-id.js';

/**
 * Proof elements that take the perfect node `(level, index)` up to the root of a tree of `treeSize`
 * leaves, bottom up: at each level, the sibling of the node on the path (RFC 6962 §2.1.1 PATH).
 * - A sibling wholly inside the tree is one perfect node.
 * - A sibling that starts at or past `treeSize` does not exist: the path node is promoted, no element.
 * - A sibling cut by `treeSize` is a right-edge subtree `[begin, treeSize)`: listed as its perfect parts.
 * Precondition (internal): `(level, index)` is a perfect node of the tree, i.e. ends at or before
 * `treeSize`; sizes are validated safe integers.
 */
export function pathElements(level: number, index: number, treeSize: number): ProofElement[] {
  const elements: ProofElement[] = [];
  const rootLevel = bitLength(treeSize - 1);
  let nodeIndex = index;
  for (let l = level; l < rootLevel; l++) {
    const sibling = nodeIndex % 2 === 0 ? nodeIndex + 1 : nodeIndex - 1;
    const width = 2 ** l;
    const begin = sibling * width;
    if (begin < treeSize) {
      elements.push(begin + width <= treeSize ? [{ level: l, index: sibling }] : rangeNodes(begin, treeSize));
    }
    nodeIndex = Math.floor(nodeIndex / 2);
  }
  return elements;
}
