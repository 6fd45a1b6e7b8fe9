import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MemoryTree,
  MerkleError,
  ProofLengthError,
  RootMismatchError,
  appendToFrontier,
  consistencyProofNodes,
  hashChildren,
  hashLeaf,
  inclusionProofNodes,
  rootFromFrontier,
  rootFromLeafHashes,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type Node,
} from '../src/index.js';
import { distinctLeafHashes } from './support/naive-tree.js';

// Property tests. Trees are built from distinct leaves: with repeated leaves some "tampered" claims are
// true (in [a, a] leaf a really is at both indices), which is not what these properties are about.

const MAX = 96;
const leaves = distinctLeafHashes(MAX, 7);
const tree = new MemoryTree();
tree.append(leaves);

const hex = (hashes: readonly Hash[]) => hashes.map(toHex);
const nodeKey = (n: Node) => `${n.level}:${n.index}:${toHex(n.hash)}`;
const RUNS = { numRuns: 200 };

/** Does `fn` throw a MerkleError (and nothing else)? */
function rejects(fn: () => void): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    if (err instanceof MerkleError) return true;
    throw err;
  }
}

function flipBit(proof: readonly Hash[], element: number, bit: number): Hash[] {
  return proof.map((hash, i) => {
    if (i !== element) return hash;
    const copy = Uint8Array.from(hash);
    copy[bit >> 3]! ^= 1 << (bit & 7);
    return copy;
  });
}

const sizeAndIndex = fc
  .integer({ min: 1, max: MAX })
  .chain((treeSize) => fc.record({ treeSize: fc.constant(treeSize), leafIndex: fc.nat(treeSize - 1) }));

const twoSizes = fc
  .tuple(fc.integer({ min: 1, max: MAX }), fc.integer({ min: 1, max: MAX }))
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => ({ size1: Math.min(a, b), size2: Math.max(a, b) }));

describe('appending', () => {
  it('any batch split gives the same frontiers, roots and nodes as rootFromLeafHashes and one big batch', () => {
    const oneBatch = appendToFrontier([], 0, leaves);
    const allNodes = new Set(oneBatch.nodes.map(nodeKey));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 40 }), (batchSizes) => {
        let frontier: Hash[] = [];
        let treeSize = 0;
        const nodes: string[] = [];
        for (const batchSize of [...batchSizes, MAX]) {
          const batch = leaves.slice(treeSize, Math.min(MAX, treeSize + batchSize));
          const result = appendToFrontier(frontier, treeSize, batch);
          ({ frontier, treeSize } = result);
          nodes.push(...result.nodes.map(nodeKey));
          expect(toHex(rootFromFrontier(frontier))).toBe(
            toHex(rootFromLeafHashes(leaves.slice(0, treeSize))),
          );
        }
        expect(hex(frontier)).toEqual(hex(oneBatch.frontier));
        expect(nodes).toHaveLength(allNodes.size);
        expect(new Set(nodes)).toEqual(allNodes);
      }),
      { numRuns: 100 },
    );
  });

  it('costs O(batch + log n) even at 2^53: completes exactly the perfect nodes ending in the new range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 53 - 1 - 64 }),
        fc.integer({ min: 0, max: 64 }),
        (size, k) => {
          const frontier = Array.from({ length: popCountOf(size) }, (_, i) => leaves[i]!);
          const batch = leaves.slice(0, k);
          const result = appendToFrontier(frontier, size, batch);
          expect(result.treeSize).toBe(size + k);
          expect(result.frontier).toHaveLength(popCountOf(size + k));
          // Perfect nodes of level ≥ 1 whose last leaf is in [size, size + k).
          const want: string[] = [];
          for (let level = 1; level <= 53; level++) {
            const width = 2 ** level;
            for (let index = Math.ceil((size + 1) / width) - 1; (index + 1) * width <= size + k; index++) {
              if ((index + 1) * width > size) want.push(`${level}:${index}`);
            }
          }
          expect(result.nodes.map((n) => `${n.level}:${n.index}`).sort()).toEqual(want.sort());
          // Splitting the batch changes nothing.
          const half = appendToFrontier(frontier, size, batch.slice(0, k >> 1));
          const rest = appendToFrontier(half.frontier, half.treeSize, batch.slice(k >> 1));
          expect(hex(rest.frontier)).toEqual(hex(result.frontier));
          expect([...half.nodes, ...rest.nodes].map(nodeKey)).toEqual(result.nodes.map(nodeKey));
        },
      ),
      RUNS,
    );
  });
});

function popCountOf(n: number): number {
  return [...n.toString(2)].filter((c) => c === '1').length;
}

describe('inclusion proofs', () => {
  it('flipping any bit of any proof hash fails verification', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(255), ({ treeSize, leafIndex }, pick, bit) => {
        const proof = tree.inclusionProof(leafIndex, treeSize);
        fc.pre(proof.length > 0);
        const tampered = flipBit(proof, pick % proof.length, bit);
        expect(() =>
          verifyInclusion(leafIndex, treeSize, leaves[leafIndex]!, tampered, tree.root(treeSize)),
        ).toThrow(RootMismatchError);
      }),
      RUNS,
    );
  });

  it('flipping any bit of the leaf hash or the root fails verification', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(255), fc.boolean(), ({ treeSize, leafIndex }, bit, inLeaf) => {
        const proof = tree.inclusionProof(leafIndex, treeSize);
        const [leaf] = flipBit([leaves[leafIndex]!], inLeaf ? 0 : -1, bit);
        const [root] = flipBit([tree.root(treeSize)], inLeaf ? -1 : 0, bit);
        expect(rejects(() => verifyInclusion(leafIndex, treeSize, leaf!, proof, root!))).toBe(true);
      }),
      RUNS,
    );
  });

  it('the proof does not fit any other leaf index', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(2 * MAX), ({ treeSize, leafIndex }, other) => {
        fc.pre(other !== leafIndex);
        const proof = tree.inclusionProof(leafIndex, treeSize);
        const root = tree.root(treeSize);
        expect(rejects(() => verifyInclusion(other, treeSize, leaves[leafIndex]!, proof, root))).toBe(true);
        if (other < treeSize) {
          expect(rejects(() => verifyInclusion(other, treeSize, leaves[other]!, proof, root))).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('the proof does not prove inclusion in a tree of any other size', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.integer({ min: 1, max: MAX }), ({ treeSize, leafIndex }, other) => {
        fc.pre(other !== treeSize && other > leafIndex);
        const proof = tree.inclusionProof(leafIndex, treeSize);
        expect(
          rejects(() => verifyInclusion(leafIndex, other, leaves[leafIndex]!, proof, tree.root(other))),
        ).toBe(true);
      }),
      RUNS,
    );
  });

  it('(documented limit) treeSize is bound by the root, not by the proof', () => {
    // Leaf 0 follows the same path in trees of 5 and of 6 leaves, so the size-5 proof and root also pass as
    // "size 6". That claim names a tree that does not exist (root5 is not the root of 6 leaves); verifiers
    // must take treeSize and root together from one signed checkpoint.
    const proof5 = tree.inclusionProof(0, 5);
    expect(() => verifyInclusion(0, 6, leaves[0]!, proof5, tree.root(5))).not.toThrow();
    expect(() => verifyInclusion(0, 6, leaves[0]!, proof5, tree.root(6))).toThrow(RootMismatchError);
  });

  it('proofs with a hash added or removed are rejected by length', () => {
    fc.assert(
      fc.property(sizeAndIndex, ({ treeSize, leafIndex }) => {
        const proof = tree.inclusionProof(leafIndex, treeSize);
        const root = tree.root(treeSize);
        const leaf = leaves[leafIndex]!;
        expect(() => verifyInclusion(leafIndex, treeSize, leaf, [...proof, root], root)).toThrow(
          ProofLengthError,
        );
        if (proof.length > 0) {
          expect(() => verifyInclusion(leafIndex, treeSize, leaf, proof.slice(1), root)).toThrow(
            ProofLengthError,
          );
        }
      }),
      RUNS,
    );
  });
});

describe('consistency proofs', () => {
  it('flipping any bit of any proof hash fails verification', () => {
    fc.assert(
      fc.property(twoSizes, fc.nat(), fc.nat(255), ({ size1, size2 }, pick, bit) => {
        const proof = tree.consistencyProof(size1, size2);
        const tampered = flipBit(proof, pick % proof.length, bit);
        expect(() => verifyConsistency(size1, size2, tampered, tree.root(size1), tree.root(size2))).toThrow(
          RootMismatchError,
        );
      }),
      RUNS,
    );
  });

  it('the proof does not fit any other size1 or size2, even with the matching roots', () => {
    fc.assert(
      fc.property(twoSizes, fc.integer({ min: 1, max: MAX }), ({ size1, size2 }, other) => {
        const proof = tree.consistencyProof(size1, size2);
        if (other !== size1 && other <= size2) {
          expect(
            rejects(() => verifyConsistency(other, size2, proof, tree.root(other), tree.root(size2))),
          ).toBe(true);
        }
        if (other !== size2 && other >= size1) {
          expect(
            rejects(() => verifyConsistency(size1, other, proof, tree.root(size1), tree.root(other))),
          ).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('a different old or new root fails verification', () => {
    fc.assert(
      fc.property(twoSizes, fc.integer({ min: 1, max: MAX }), ({ size1, size2 }, other) => {
        const proof = tree.consistencyProof(size1, size2);
        if (other !== size1) {
          expect(() => verifyConsistency(size1, size2, proof, tree.root(other), tree.root(size2))).toThrow(
            RootMismatchError,
          );
        }
        if (other !== size2) {
          expect(() => verifyConsistency(size1, size2, proof, tree.root(size1), tree.root(other))).toThrow(
            RootMismatchError,
          );
        }
      }),
      RUNS,
    );
  });
});

describe('hash domains', () => {
  it('[a, b, c] and [a, b, c, c] have different roots: the odd node is promoted, not duplicated', () => {
    const [a, b, c] = distinctLeafHashes(3);
    expect(toHex(rootFromLeafHashes([a!, b!, c!]))).not.toBe(toHex(rootFromLeafHashes([a!, b!, c!, c!])));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX - 1 }), (n) => {
        const xs = leaves.slice(0, n);
        expect(toHex(rootFromLeafHashes(xs))).not.toBe(toHex(rootFromLeafHashes([...xs, xs[n - 1]!])));
      }),
      { numRuns: 50 },
    );
  });

  it('a leaf hash never equals the interior hash of the same bytes (0x00 / 0x01 prefixes)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (l, r) => {
          const interior = toHex(hashChildren(l, r));
          expect(toHex(hashLeaf(Uint8Array.from([...l, ...r])))).not.toBe(interior);
          expect(toHex(hashLeaf(Uint8Array.from([0x01, ...l, ...r])))).not.toBe(interior);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('an interior node cannot be passed off as a leaf (second preimage)', () => {
    // Tree of 4 leaves; its node (1,0) = hashChildren(L0, L1). An attacker presents the bytes L0 ‖ L1 as
    // one leaf of a 2-leaf tree whose other leaf is node (1,1).
    const four = new MemoryTree();
    four.append(leaves.slice(0, 4));
    const [n10, n11] = [four.node(1, 0)!, four.node(1, 1)!];
    const forgedLeafData = Uint8Array.from([...leaves[0]!, ...leaves[1]!]);
    expect(() => verifyInclusion(0, 2, hashLeaf(forgedLeafData), [n11], four.root())).toThrow(
      RootMismatchError,
    );
    expect(toHex(rootFromLeafHashes([hashLeaf(forgedLeafData), n11]))).not.toBe(toHex(four.root()));
    // The defence is hashLeaf's prefix: a verifier handed a bare "leaf hash" instead of leaf data could be
    // fooled, so verifiers hash the leaf data themselves.
    expect(() => verifyInclusion(0, 2, n10, [n11], four.root())).not.toThrow();
  });
});

describe('proof shapes at sizes up to 2^53 − 1', () => {
  const big = fc.oneof(
    fc.maxSafeNat(),
    fc.integer({ min: 0, max: 2 ** 33 }),
    fc.integer({ min: 0, max: 300 }),
  );
  const bigSizeAndIndex = big
    .filter((n) => n >= 1)
    .chain((treeSize) =>
      fc.record({ treeSize: fc.constant(treeSize), leafIndex: fc.integer({ min: 0, max: treeSize - 1 }) }),
    );

  it('inclusion elements partition the tree around the leaf, and have the length the verifier expects', () => {
    fc.assert(
      fc.property(bigSizeAndIndex, ({ treeSize, leafIndex }) => {
        const elements = inclusionProofNodes(leafIndex, treeSize);
        const ranges = [[leafIndex, leafIndex + 1]];
        for (const element of elements) {
          expect(element.length).toBeGreaterThan(0);
          let end: number | undefined;
          for (const { level, index } of element) {
            const width = 2 ** level;
            // Parts of an element are adjacent, largest first.
            if (end !== undefined) expect(index * width).toBe(end);
            end = (index + 1) * width;
            expect(end).toBeLessThanOrEqual(treeSize);
          }
          ranges.push([element[0]!.index * 2 ** element[0]!.level, end!]);
        }
        ranges.sort((x, y) => x[0]! - y[0]!);
        let covered = 0;
        for (const [begin, end] of ranges) {
          expect(begin).toBe(covered);
          covered = end!;
        }
        expect(covered).toBe(treeSize);
        expectVerifierLength(elements.length, (proof) =>
          verifyInclusion(leafIndex, treeSize, leaves[0]!, proof, leaves[1]!),
        );
      }),
      RUNS,
    );
  });

  it('consistency elements stay inside size2 and have the length the verifier expects', () => {
    fc.assert(
      fc.property(big, big, (a, b) => {
        const [size1, size2] = [Math.min(a, b), Math.max(a, b)];
        fc.pre(size1 > 0 && size1 < size2);
        const elements = consistencyProofNodes(size1, size2);
        for (const { level, index } of elements.flat())
          expect((index + 1) * 2 ** level).toBeLessThanOrEqual(size2);
        expectVerifierLength(elements.length, (proof) =>
          verifyConsistency(size1, size2, proof, leaves[0]!, leaves[1]!),
        );
      }),
      RUNS,
    );
  });
});

/** The verifier accepts exactly `length` hashes: it gets to comparing roots then, and no further. */
function expectVerifierLength(length: number, verify: (proof: Hash[]) => void): void {
  const proof = leaves.slice(2, 2 + length);
  expect(() => verify(proof)).toThrow(RootMismatchError);
  expect(() => verify([...proof, leaves[0]!])).toThrow(ProofLengthError);
  if (length > 0) expect(() => verify(proof.slice(1))).toThrow(ProofLengthError);
}
