import type { Hash } from '../hash/hasher.js';

/**
 * A perfect subtree: the node at `level` and `index` covers leaves `[index·2^level, (index+1)·2^level)`.
 * Level 0 is a leaf hash. Once its last leaf is appended a perfect node never changes, so it can be stored.
 *
 * Tree of size 7 (binary 111). `(level,index)` are perfect nodes; `*` marks right-edge nodes that are NOT
 * perfect: they change with every append, are never stored, and are recomputed by folding perfect nodes.
 *
 * ```text
 *  level 3                       root*              root*  = hashChildren((2,0), [4,7)*)
 *                           /        \
 *  level 2             (2,0)             [4,7)*     [4,7)* = hashChildren((1,2), (0,6))
 *                   /       \            /     \
 *  level 1     (1,0)       (1,1)      (1,2)      |  (1,3) needs leaf 7; until then (0,6) is
 *             /    \      /    \     /    \      |  promoted, never paired with a copy of itself
 *  level 0  (0,0) (0,1) (0,2) (0,3) (0,4) (0,5) (0,6)
 *  leaf       0     1     2     3     4     5     6
 * ```
 *
 * The frontier of size 7 is `[(2,0), (1,2), (0,6)]`: one perfect node per set bit of the size, left to
 * right. Folding it right to left, `acc = hashChildren(left, acc)`, gives the root.
 */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** A perfect-subtree node and its hash, as a node store keeps it. */
export interface Node extends NodeId {
  readonly hash: Hash;
}

/**
 * One hash of a proof, described by the stored nodes it comes from. Usually a single perfect node. When
 * the proof needs a right-edge (non-perfect) subtree, it lists that subtree's perfect parts left to right,
 * largest first; the hash is their fold right to left: start with the last, then
 * `acc = hashChildren(part, acc)` for each earlier part. See {@link buildProof}.
 */
export type ProofElement = readonly NodeId[];
