import { MemoryTree, toHex } from '@fieldproof/merkle';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FrontierCache } from '../src/push/frontier-cache.js';

function treeOf(size: number, tag: string): MemoryTree {
  const tree = new MemoryTree();
  for (let i = 0; i < size; i++) {
    tree.append([new Uint8Array(createHash('sha256').update(`${tag} ${i}`).digest())]);
  }
  return tree;
}

describe('FrontierCache', () => {
  it('gives a frontier only for the size and root the database gives as the head', () => {
    const cache = new FrontierCache();
    const honest = treeOf(11, 'honest');
    // The same size, other leaves: a database restored and refilled, or another replica's different head.
    const other = treeOf(11, 'other');
    cache.set('d1', 11, honest.frontier);
    expect(cache.get('d1', 11, toHex(honest.root()))).toEqual(honest.frontier);
    expect(cache.get('d1', 11, toHex(other.root()))).toBeUndefined();
    expect(cache.get('d1', 11, null)).toBeUndefined();
    expect(cache.get('d1', 12, toHex(honest.root()))).toBeUndefined();
    expect(cache.get('d2', 11, toHex(honest.root()))).toBeUndefined();
    // A later append replaces the device's entry.
    const grown = treeOf(13, 'honest');
    cache.set('d1', 13, grown.frontier);
    expect(cache.get('d1', 11, toHex(honest.root()))).toBeUndefined();
    expect(cache.get('d1', 13, toHex(grown.root()))).toEqual(grown.frontier);
  });

  it('holds at most maxDevices devices, dropping the one stored longest ago', () => {
    const cache = new FrontierCache(2);
    const tree = treeOf(5, 't');
    const root = toHex(tree.root());
    cache.set('a', 5, tree.frontier);
    cache.set('b', 5, tree.frontier);
    cache.set('a', 5, tree.frontier); // stored again: now the newest
    cache.set('c', 5, tree.frontier);
    expect(['a', 'b', 'c'].map((d) => cache.get(d, 5, root) !== undefined)).toEqual([true, false, true]);
  });
});
