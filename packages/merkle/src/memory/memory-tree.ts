import { appendToFrontier } from '../compact/append-to-frontier.js';
import { rootFromFrontier } from '../compact/root-from-frontier.js';
import { TreeSizeError } from '../errors.js';
import type { Hash } from '../hash/hasher.js';
import { buildProof, type NodeLookup } from '../proof/build-proof.js';
import { consistencyProofNodes } from '../proof/consistency-proof-nodes.js';
import { inclusionProofNodes } from '../proof/inclusion-proof-nodes.js';
import { frontierNodes } from '../tree/frontier-nodes.js';
import { assertSize } from '../validate.js';

/**
 * An in-memory log for tests, benchmarks and tools. It works exactly as a persistent log should, only with
 * arrays for a store: appends go through {@link appendToFrontier} and keep every perfect node it reports;
 * roots and proofs are read back from those stored nodes. Nothing is ever rebuilt from all the leaves.
 */
export class MemoryTree {
  /** `levels[level][index]` is the perfect node `(level, index)`; level 0 holds the leaf hashes. */
  readonly #levels: Hash[][] = [[]];
  #frontier: Hash[] = [];

  /** Number of leaves appended so far. */
  get treeSize(): number {
    return this.#levels[0]!.length;
  }

  /** The current frontier (perfect-subtree hashes, left to right). */
  get frontier(): readonly Hash[] {
    return this.#frontier;
  }

  /** Appends 32-byte leaf hashes (validated by {@link appendToFrontier}; nothing changes if it throws). */
  append(leafHashes: readonly Hash[]): void {
    const result = appendToFrontier(this.#frontier, this.treeSize, leafHashes);
    for (const leafHash of leafHashes) this.#levels[0]!.push(leafHash);
    for (const { level, index, hash } of result.nodes) {
      const row = (this.#levels[level] ??= []);
      // Nodes of one level complete left to right, so each one lands at the end of its row.
      if (index !== row.length) throw new Error(`bug: node (${level}, ${index}) completed out of order`);
      row.push(hash);
    }
    this.#frontier = result.frontier;
  }

  /** The stored perfect node `(level, index)`, or `undefined` if it is not complete yet. */
  readonly node: NodeLookup = (level, index) => this.#levels[level]?.[index];

  /** Root of the first `treeSize` leaves (default: all), from stored nodes. O(log n). */
  root(treeSize: number = this.treeSize): Hash {
    this.#assertHeld(treeSize);
    return rootFromFrontier(frontierNodes(treeSize).map(({ level, index }) => this.node(level, index)!));
  }

  /** Inclusion proof of `leafIndex` in the tree of the first `treeSize` leaves (default: all). */
  inclusionProof(leafIndex: number, treeSize: number = this.treeSize): Hash[] {
    this.#assertHeld(treeSize);
    return buildProof(inclusionProofNodes(leafIndex, treeSize), this.node);
  }

  /** Consistency proof from the tree of `size1` leaves to that of `size2` (default: all). */
  consistencyProof(size1: number, size2: number = this.treeSize): Hash[] {
    this.#assertHeld(size2);
    return buildProof(consistencyProofNodes(size1, size2), this.node);
  }

  #assertHeld(treeSize: number): void {
    assertSize('treeSize', treeSize);
    if (treeSize > this.treeSize) throw new TreeSizeError(treeSize, this.treeSize);
  }
}
