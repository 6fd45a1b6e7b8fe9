import { describe, expect, it } from 'vitest';
import {
  appendToFrontier,
  buildProof,
  consistencyProofNodes,
  frontierNodes,
  inclusionProofNodes,
  rootFromFrontier,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  toHex,
  type NodeLookup,
} from '../src/index.js';
import { NaiveTree, distinctLeafHashes, seededRandom } from './support/naive-tree.js';

// Exhaustive comparison with the naive RFC 6962 tree for every size up to MAX, every leaf index and every
// pair of sizes. The node store is filled only through appendToFrontier, in random batch splits, the way
// a log fills its database. Hashes are compared as hex strings: vitest's deep equality walks typed arrays
// element by element, which would dominate the run time here.
const hex = (hashes: Hash[]) => hashes.map(toHex);
const MAX = 130;
const leafHashes = distinctLeafHashes(MAX);
const naive = new NaiveTree(leafHashes);

interface Store {
  nodes: Map<string, Hash>;
  /** Tree sizes at which a batch ended, with the frontier root there. */
  checkpoints: { treeSize: number; root: Hash }[];
}

/** Appends all leaves in random batches (sizes 0…max), keeping every node appendToFrontier reports. */
function fillStore(seed: number, maxBatch: number): Store {
  const random = seededRandom(seed);
  const nodes = new Map<string, Hash>();
  const checkpoints: Store['checkpoints'] = [];
  let frontier: Hash[] = [];
  let treeSize = 0;
  while (treeSize < MAX) {
    const batch = leafHashes.slice(treeSize, treeSize + Math.floor(random() * (maxBatch + 1)));
    const result = appendToFrontier(frontier, treeSize, batch);
    batch.forEach((hash, i) => nodes.set(`0:${treeSize + i}`, hash));
    for (const node of result.nodes) {
      expect(nodes.has(`${node.level}:${node.index}`), 'each node is completed once').toBe(false);
      nodes.set(`${node.level}:${node.index}`, node.hash);
    }
    ({ frontier, treeSize } = result);
    checkpoints.push({ treeSize, root: rootFromFrontier(frontier) });
  }
  return { nodes, checkpoints };
}

/** A lookup that also fails if a proof for `treeSize` asks for a node not yet complete at that size. */
function lookupAt(store: Store, treeSize: number): NodeLookup {
  return (level, index) => {
    if ((index + 1) * 2 ** level > treeSize)
      throw new Error(`node (${level}, ${index}) is beyond ${treeSize}`);
    return store.nodes.get(`${level}:${index}`);
  };
}

const stores = [fillStore(1, 1), fillStore(2, 7), fillStore(3, 40), fillStore(4, MAX)];
const store = stores[1]!;

describe(`naive reference tree, every size 0…${MAX}`, () => {
  it('roots agree: naive MTH, rootFromLeafHashes, the frontier after each batch, stored frontier nodes', () => {
    for (let size = 0; size <= MAX; size++) {
      const want = naive.root(size);
      expect(rootFromLeafHashes(leafHashes.slice(0, size))).toEqual(want);
      expect(
        rootFromFrontier(frontierNodes(size).map(({ level, index }) => lookupAt(store, size)(level, index)!)),
      ).toEqual(want);
    }
    for (const { checkpoints } of stores) {
      for (const { treeSize, root } of checkpoints) expect(root).toEqual(naive.root(treeSize));
    }
  });

  it('the store holds exactly the perfect nodes of the tree, with their naive hashes, whatever the batches', () => {
    let perfectNodes = 0;
    for (let level = 0; 2 ** level <= MAX; level++) {
      for (let index = 0; (index + 1) * 2 ** level <= MAX; index++) {
        perfectNodes++;
        const want = naive.mth(index * 2 ** level, (index + 1) * 2 ** level);
        for (const s of stores) expect(s.nodes.get(`${level}:${index}`)).toEqual(want);
      }
    }
    for (const s of stores) expect(s.nodes.size).toBe(perfectNodes);
  });

  it('inclusion proofs for every (leafIndex, treeSize) equal the naive PATH and verify', () => {
    let checked = 0;
    for (let treeSize = 1; treeSize <= MAX; treeSize++) {
      const root = naive.root(treeSize);
      for (let leafIndex = 0; leafIndex < treeSize; leafIndex++) {
        const proof = buildProof(inclusionProofNodes(leafIndex, treeSize), lookupAt(store, treeSize));
        expect(hex(proof)).toEqual(hex(naive.inclusionProof(leafIndex, treeSize)));
        verifyInclusion(leafIndex, treeSize, leafHashes[leafIndex]!, proof, root);
        checked++;
      }
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it('consistency proofs for every 0 < size1 ≤ size2 equal the naive PROOF and verify', () => {
    let checked = 0;
    for (let size2 = 1; size2 <= MAX; size2++) {
      const root2 = naive.root(size2);
      for (let size1 = 1; size1 <= size2; size1++) {
        const proof = buildProof(consistencyProofNodes(size1, size2), lookupAt(store, size2));
        expect(hex(proof)).toEqual(hex(naive.consistencyProof(size1, size2)));
        verifyConsistency(size1, size2, proof, naive.root(size1), root2);
        checked++;
      }
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });
});
