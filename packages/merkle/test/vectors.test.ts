import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  MemoryTree,
  MerkleError,
  appendToFrontier,
  fromHex,
  hashLeaf,
  rootFromConsistencyProof,
  rootFromFrontier,
  rootFromInclusionProof,
  rootFromLeafHashes,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';

// The published transparency-dev/merkle vectors, kept in the repository (test/vectors/rfc6962/README.md says
// where they come from). Every file is loaded: the folders are walked, so a vector added later is picked up,
// and the count is checked against the disk.
const VECTORS = fileURLToPath(new URL('../../../test/vectors/rfc6962/', import.meta.url));

interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface RootsVector {
  leafInputsHex: string[];
  rootHashHexBySize: string[];
}

/** All files under `dir`, walked by hand (readdir + recursion), as absolute paths. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function b64(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, 'base64'));
}

function hexBytes(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, 'hex'));
}

const files = walk(VECTORS)
  .filter((path) => path.endsWith('.json'))
  .map((path) => relative(VECTORS, path).split(sep).join('/'))
  .sort();
const read = <T>(path: string): T => JSON.parse(readFileSync(join(VECTORS, path), 'utf8')) as T;
const inclusionFiles = files.filter((path) => path.startsWith('inclusion/'));
const consistencyFiles = files.filter((path) => path.startsWith('consistency/'));
const loaded = new Set<string>();
let crossChecked = 0; // happy paths whose proof we also generated and compared byte for byte

describe('RFC 6962 vectors: the files', () => {
  it('walks every JSON file on disk, and nothing else is there but the README and LICENSE', () => {
    const onDisk = readdirSync(VECTORS, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const jsonOnDisk = onDisk.filter((e) => e.name.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBe(jsonOnDisk.length);
    expect(
      onDisk
        .filter((e) => !e.name.endsWith('.json'))
        .map((e) => e.name)
        .sort(),
    ).toEqual(['LICENSE', 'README.md']);
    // Every JSON file is one of the three kinds tested below.
    expect(['roots.json', ...inclusionFiles, ...consistencyFiles].sort()).toEqual(files);
    expect(inclusionFiles.length).toBeGreaterThan(0);
    expect(consistencyFiles.length).toBeGreaterThan(0);
    expect(consistencyFiles.some((path) => path.startsWith('consistency/additional/'))).toBe(true);
    expect(inclusionFiles.some((path) => path.startsWith('inclusion/additional/'))).toBe(true);
  });
});

describe('RFC 6962 vectors: roots.json', () => {
  const vector = read<RootsVector>('roots.json');
  loaded.add('roots.json');
  const leafHashes = vector.leafInputsHex.map((hex) => hashLeaf(hexBytes(hex)));
  const tree = new MemoryTree();
  tree.append(leafHashes);

  it('has the empty root first', () => {
    expect(toHex(EMPTY_ROOT)).toBe(vector.rootHashHexBySize[0]);
  });

  it.each(vector.rootHashHexBySize.map((hex, size) => ({ hex, size, name: String(size) })))(
    'size $name: rootFromLeafHashes, frontier and stored nodes agree with the published root',
    ({ hex, size }) => {
      const want = fromHex(hex);
      expect(rootFromLeafHashes(leafHashes.slice(0, size))).toEqual(want);
      expect(rootFromFrontier(appendToFrontier([], 0, leafHashes.slice(0, size)).frontier)).toEqual(want);
      expect(tree.root(size)).toEqual(want);
    },
  );
});

// Happy-path proofs in the vectors come from the tree in roots.json; ours must be byte-identical.
const rootsVector = read<RootsVector>('roots.json');
const vectorTree = new MemoryTree();
vectorTree.append(rootsVector.leafInputsHex.map((hex) => hashLeaf(hexBytes(hex))));
const isVectorTree = (size: number, root: Uint8Array) =>
  size <= vectorTree.treeSize && toHex(root) === rootsVector.rootHashHexBySize[size];

describe('RFC 6962 vectors: inclusion', () => {
  it.each(inclusionFiles)('%s', (path) => {
    const v = read<InclusionVector>(path);
    loaded.add(path);
    const proof = (v.proof ?? []).map(b64);
    const [leafHash, root] = [b64(v.leafHash), b64(v.root)];
    const verify = () => verifyInclusion(v.leafIdx, v.treeSize, leafHash, proof, root);
    if (v.wantErr) {
      expect(verify).toThrow(MerkleError);
      return;
    }
    expect(verify).not.toThrow();
    expect(rootFromInclusionProof(v.leafIdx, v.treeSize, leafHash, proof)).toEqual(root);
    if (isVectorTree(v.treeSize, root)) {
      expect(vectorTree.inclusionProof(v.leafIdx, v.treeSize)).toEqual(proof);
      crossChecked++;
    }
  });
});

describe('RFC 6962 vectors: consistency', () => {
  it.each(consistencyFiles)('%s', (path) => {
    const v = read<ConsistencyVector>(path);
    loaded.add(path);
    const proof = (v.proof ?? []).map(b64);
    const [root1, root2] = [b64(v.root1), b64(v.root2)];
    const verify = () => verifyConsistency(v.size1, v.size2, proof, root1, root2);
    if (v.wantErr) {
      expect(verify).toThrow(MerkleError);
      return;
    }
    expect(verify).not.toThrow();
    if (v.size1 !== v.size2) expect(rootFromConsistencyProof(v.size1, v.size2, proof, root1)).toEqual(root2);
    if (isVectorTree(v.size2, root2)) {
      expect(vectorTree.consistencyProof(v.size1, v.size2)).toEqual(proof);
      crossChecked++;
    }
  });
});

describe('RFC 6962 vectors: coverage', () => {
  it('loaded and checked every file', () => {
    expect(loaded.size).toBe(files.length);
    expect(crossChecked).toBeGreaterThan(0);
  });
});
