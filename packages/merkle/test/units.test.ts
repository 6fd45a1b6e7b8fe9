import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  EmptyTreeError,
  FrontierSizeError,
  IndexOutOfRangeError,
  InvalidHashError,
  InvalidHexError,
  InvalidIntegerError,
  MemoryTree,
  MerkleError,
  MissingNodeError,
  ProofLengthError,
  RootMismatchError,
  SizeOrderError,
  TreeSizeError,
  appendToFrontier,
  buildProof,
  consistencyProofNodes,
  frontierNodes,
  fromHex,
  hashChildren,
  hashLeaf,
  inclusionProofNodes,
  rootFromConsistencyProof,
  rootFromFrontier,
  rootFromInclusionProof,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';
import { bitAt, bitLength, popCount, shiftRight, trailingZeros, xor } from '../src/tree/bits.js';
import { distinctLeafHashes } from './support/naive-tree.js';

const h = (byte: number) => new Uint8Array(32).fill(byte);

/** Runs `fn` and returns what it threw, failing the test if it did not throw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('hashing', () => {
  it('matches RFC 6962 known values', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // Root of the one-leaf tree in roots.json, whose leaf is the empty string.
    expect(toHex(hashLeaf(new Uint8Array(0)))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
  });

  it('hashChildren rejects anything but two 32-byte hashes, naming the side', () => {
    expect(thrown(() => hashChildren(new Uint8Array(31), h(1)))).toMatchObject({ what: 'left', length: 31 });
    expect(thrown(() => hashChildren(h(1), new Uint8Array(33)))).toMatchObject({ what: 'right', length: 33 });
    // The scratch buffer is reused; results must not alias it.
    const a = hashChildren(h(1), h(2));
    const copy = Uint8Array.from(a);
    hashChildren(h(3), h(4));
    expect(a).toEqual(copy);
  });
});

describe('hex', () => {
  it('round-trips and writes lowercase', () => {
    const upper = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';
    expect(fromHex(upper)).toEqual(EMPTY_ROOT);
    expect(toHex(fromHex(upper))).toBe(upper.toLowerCase());
    expect(toHex(Uint8Array.of(0, 15, 16, 255))).toBe('000f10ff');
  });

  it.each([
    ['63 digits', 'a'.repeat(63)],
    ['65 digits', 'a'.repeat(65)],
    ['0x prefix', `0x${'a'.repeat(62)}`],
    ['non-hex digit', `${'a'.repeat(63)}g`],
    ['trailing newline', `${'a'.repeat(64)}\n`],
    ['leading space', ` ${'a'.repeat(63)}`],
    ['empty', ''],
  ])('fromHex rejects %s', (_name, input) => {
    expect(thrown(() => fromHex(input))).toBeInstanceOf(InvalidHexError);
  });
});

describe('bits on safe integers (vs BigInt)', () => {
  const safe = fc.oneof(
    fc.maxSafeNat(),
    fc.integer({ min: 0, max: 2 ** 32 + 5 }),
    fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 52),
  );
  it('bitLength, popCount, trailingZeros, xor, shiftRight, bitAt', () => {
    fc.assert(
      fc.property(safe, safe, fc.integer({ min: 0, max: 53 }), (a, b, k) => {
        const A = BigInt(a);
        expect(bitLength(a)).toBe(a.toString(2).replace(/^0$/, '').length);
        expect(popCount(a)).toBe([...a.toString(2)].filter((c) => c === '1').length);
        if (a > 0) expect(trailingZeros(a)).toBe(a.toString(2).length - a.toString(2).lastIndexOf('1') - 1);
        expect(xor(a, b)).toBe(Number(A ^ BigInt(b)));
        expect(shiftRight(a, k)).toBe(Number(A >> BigInt(k)));
        expect(bitAt(a, k)).toBe(((A >> BigInt(k)) & 1n) === 1n);
      }),
      { numRuns: 500 },
    );
  });
});

describe('input validation', () => {
  const leaf = h(7);
  it.each([Number.NaN, -1, 1.5, 2 ** 53, Infinity])('rejects the size %s with InvalidIntegerError', (bad) => {
    expect(thrown(() => verifyInclusion(0, bad, leaf, [], leaf))).toMatchObject({
      what: 'treeSize',
      value: bad,
    });
    expect(thrown(() => inclusionProofNodes(bad, 10))).toBeInstanceOf(InvalidIntegerError);
    expect(thrown(() => consistencyProofNodes(1, bad))).toBeInstanceOf(InvalidIntegerError);
    expect(thrown(() => verifyConsistency(bad, 5, [], leaf, leaf))).toBeInstanceOf(InvalidIntegerError);
    expect(thrown(() => frontierNodes(bad))).toBeInstanceOf(InvalidIntegerError);
  });

  it('errors carry their data and share a base class', () => {
    const mismatch = thrown(() => verifyInclusion(0, 1, leaf, [], h(8)));
    expect(mismatch).toBeInstanceOf(RootMismatchError);
    expect(mismatch).toBeInstanceOf(MerkleError);
    expect(mismatch).toMatchObject({
      name: 'RootMismatchError',
      expected: h(8),
      calculated: leaf,
      which: 'root',
    });
    expect(thrown(() => verifyInclusion(0, 2, leaf, [], leaf))).toMatchObject({ expected: 1, actual: 0 });
    expect(thrown(() => verifyInclusion(0, 2, leaf, [], leaf))).toBeInstanceOf(ProofLengthError);
    expect(thrown(() => verifyInclusion(3, 3, leaf, [], leaf))).toMatchObject({ leafIndex: 3, treeSize: 3 });
    expect(thrown(() => verifyInclusion(3, 3, leaf, [], leaf))).toBeInstanceOf(IndexOutOfRangeError);
    expect(thrown(() => verifyInclusion(0, 2, leaf, [new Uint8Array(0)], leaf))).toMatchObject({
      what: 'proof[0]',
      length: 0,
    });
    expect(thrown(() => verifyInclusion(0, 1, new Uint8Array(3), [], leaf))).toBeInstanceOf(InvalidHashError);
    expect(thrown(() => verifyInclusion(0, 1, leaf, [], new Uint8Array(0)))).toMatchObject({ what: 'root' });
    expect(thrown(() => verifyConsistency(3, 2, [], leaf, leaf))).toMatchObject({ size1: 3, size2: 2 });
    expect(thrown(() => verifyConsistency(3, 2, [], leaf, leaf))).toBeInstanceOf(SizeOrderError);
    expect(thrown(() => verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT))).toBeInstanceOf(EmptyTreeError);
    expect(thrown(() => verifyConsistency(2, 2, [leaf], leaf, leaf))).toMatchObject({
      expected: 0,
      actual: 1,
    });
  });

  it('a consistency proof whose old root is wrong names root1', () => {
    const tree = new MemoryTree();
    tree.append(distinctLeafHashes(6));
    expect(thrown(() => verifyConsistency(3, 6, tree.consistencyProof(3), h(1), tree.root()))).toMatchObject({
      which: 'root1',
      expected: h(1),
      calculated: tree.root(3),
    });
    expect(rootFromConsistencyProof(3, 6, tree.consistencyProof(3), tree.root(3))).toEqual(tree.root());
    expect(rootFromConsistencyProof(4, 4, [], tree.root(4))).toEqual(tree.root(4));
    expect(rootFromInclusionProof(5, 6, tree.node(0, 5)!, tree.inclusionProof(5))).toEqual(tree.root());
  });
});

describe('frontier', () => {
  it('appendToFrontier is pure and validates the frontier against the size', () => {
    const [a, b, c] = distinctLeafHashes(3);
    const first = appendToFrontier([], 0, [a!, b!]);
    const frozen = [...first.frontier];
    const second = appendToFrontier(first.frontier, 2, [c!]);
    expect(first.frontier).toEqual(frozen);
    expect(second).toMatchObject({ treeSize: 3, nodes: [] });
    expect(second.frontier).toHaveLength(2);
    expect(thrown(() => appendToFrontier(first.frontier, 3, [c!]))).toMatchObject({
      treeSize: 3,
      expected: 2,
      actual: 1,
    });
    expect(thrown(() => appendToFrontier(first.frontier, 3, [c!]))).toBeInstanceOf(FrontierSizeError);
    expect(thrown(() => appendToFrontier([], 0, [new Uint8Array(1)]))).toMatchObject({
      what: 'leafHashes[0]',
    });
    expect(thrown(() => appendToFrontier([h(1)], 2 ** 53 - 1, [h(2)]))).toBeInstanceOf(InvalidIntegerError);
    expect(rootFromFrontier([])).toEqual(EMPTY_ROOT);
  });

  it('reports completed nodes child before parent, as in the diagram', () => {
    const leaves = distinctLeafHashes(8);
    const upTo3 = appendToFrontier([], 0, leaves.slice(0, 3));
    expect(upTo3.nodes.map(({ level, index }) => [level, index])).toEqual([[1, 0]]);
    const four = appendToFrontier(upTo3.frontier, 3, leaves.slice(3, 4));
    expect(four.nodes.map(({ level, index }) => [level, index])).toEqual([
      [1, 1],
      [2, 0],
    ]);
    expect(four.frontier).toEqual([four.nodes[1]!.hash]);
  });

  it('frontierNodes and proof nodes match the size-7 diagram in node-id.ts', () => {
    expect(frontierNodes(0)).toEqual([]);
    expect(frontierNodes(7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(inclusionProofNodes(0, 7)).toEqual([
      [{ level: 0, index: 1 }],
      [{ level: 1, index: 1 }],
      [
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
    ]);
    expect(inclusionProofNodes(6, 7)).toEqual([[{ level: 1, index: 2 }], [{ level: 2, index: 0 }]]);
    expect(consistencyProofNodes(3, 7)).toEqual([
      [{ level: 0, index: 2 }],
      [{ level: 0, index: 3 }],
      [{ level: 1, index: 0 }],
      [
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
    ]);
    expect(consistencyProofNodes(4, 7)).toEqual([
      [
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
    ]);
    expect(consistencyProofNodes(7, 7)).toEqual([]);
    expect(thrown(() => consistencyProofNodes(0, 7))).toBeInstanceOf(EmptyTreeError);
    expect(thrown(() => consistencyProofNodes(8, 7))).toBeInstanceOf(SizeOrderError);
    expect(thrown(() => inclusionProofNodes(7, 7))).toBeInstanceOf(IndexOutOfRangeError);
  });
});

describe('buildProof', () => {
  it('folds multi-node elements right to left and reports missing or malformed nodes', () => {
    const [x, y, z] = [h(1), h(2), h(3)];
    const nodes = new Map([
      ['1:0', x],
      ['0:2', y],
      ['0:3', z],
    ]);
    const lookup = (level: number, index: number) => nodes.get(`${level}:${index}`);
    const element = [
      { level: 1, index: 0 },
      { level: 0, index: 2 },
      { level: 0, index: 3 },
    ];
    expect(buildProof([element], lookup)).toEqual([hashChildren(x, hashChildren(y, z))]);
    expect(thrown(() => buildProof([[{ level: 4, index: 9 }]], lookup))).toMatchObject({
      level: 4,
      index: 9,
    });
    expect(thrown(() => buildProof([[{ level: 4, index: 9 }]], lookup))).toBeInstanceOf(MissingNodeError);
    expect(thrown(() => buildProof([[{ level: 0, index: 0 }]], () => new Uint8Array(2)))).toBeInstanceOf(
      InvalidHashError,
    );
    expect(thrown(() => buildProof([[]], lookup))).toBeInstanceOf(MerkleError);
  });
});

describe('MemoryTree', () => {
  it('serves roots and proofs of every size it holds, and nothing beyond', () => {
    const tree = new MemoryTree();
    expect(tree.root()).toEqual(EMPTY_ROOT);
    const leaves = distinctLeafHashes(11);
    tree.append(leaves.slice(0, 4));
    tree.append([]);
    tree.append(leaves.slice(4));
    expect(tree.treeSize).toBe(11);
    expect(rootFromFrontier(tree.frontier)).toEqual(tree.root());
    verifyInclusion(9, 11, leaves[9]!, tree.inclusionProof(9), tree.root());
    verifyInclusion(2, 5, leaves[2]!, tree.inclusionProof(2, 5), tree.root(5));
    verifyConsistency(5, 11, tree.consistencyProof(5), tree.root(5), tree.root());
    expect(thrown(() => tree.root(12))).toMatchObject({ treeSize: 12, available: 11 });
    expect(thrown(() => tree.root(12))).toBeInstanceOf(TreeSizeError);
    expect(thrown(() => tree.consistencyProof(3, 12))).toBeInstanceOf(TreeSizeError);
  });

  it('is unchanged by a rejected append', () => {
    const tree = new MemoryTree();
    tree.append(distinctLeafHashes(3));
    const root = tree.root();
    expect(thrown(() => tree.append([h(1), new Uint8Array(5)]))).toBeInstanceOf(InvalidHashError);
    expect(tree.treeSize).toBe(3);
    expect(tree.root()).toEqual(root);
  });
});
