import { MemoryTree } from '@fieldproof/merkle';
import { generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import { describe, expect, it } from 'vitest';
import { leafHashOf, verifyConsistencyBetween, type Verification } from '../src/index.js';
import { ORIGIN, evidence } from './fixture.js';

const key = generateDeviceKey(ORIGIN);
const tree = new MemoryTree();
tree.append(Array.from({ length: 21 }, (_, i) => leafHashOf(evidence(i))));
const noteAt = (size: number, origin = ORIGIN, signer = key) =>
  signCheckpoint({ origin, treeSize: size, root: tree.root(size) }, signer);
const hex = (hashes: Uint8Array[]) => hashes.map((h) => Buffer.from(h).toString('hex'));
const summary = (v: Verification) => v.links.map((l) => `${l.link}:${l.status}`);

describe('verifyConsistencyBetween', () => {
  it('holds for every pair of sizes of one log', () => {
    for (let size1 = 1; size1 <= 21; size1++) {
      for (let size2 = size1; size2 <= 21; size2++) {
        const result = verifyConsistencyBetween(
          noteAt(size1),
          noteAt(size2),
          hex(tree.consistencyProof(size1, size2)),
          key.verifierKey,
        );
        expect(result.ok, `${size1} → ${size2}`).toBe(true);
      }
    }
  });

  it('accepts proofs as bytes, and the empty tree as a prefix of any tree', () => {
    expect(
      verifyConsistencyBetween(noteAt(5), noteAt(9), tree.consistencyProof(5, 9), key.verifierKey).ok,
    ).toBe(true);
    const result = verifyConsistencyBetween(noteAt(0), noteAt(9), [], key.verifierKey);
    expect(summary(result)).toEqual(['old-checkpoint:ok', 'new-checkpoint:ok', 'consistency:ok']);
  });

  it('fails a tampered proof, a forked log, swapped sizes, another log and another key', () => {
    const proof = hex(tree.consistencyProof(5, 9));
    const flipped = [...proof];
    flipped[1] = `${flipped[1]!.slice(0, 63)}${flipped[1]!.endsWith('0') ? '1' : '0'}`;
    expect(summary(verifyConsistencyBetween(noteAt(5), noteAt(9), flipped, key.verifierKey))).toContain(
      'consistency:failed',
    );
    const forked = signCheckpoint({ origin: ORIGIN, treeSize: 9, root: tree.root(10) }, key);
    expect(verifyConsistencyBetween(noteAt(5), forked, proof, key.verifierKey).ok).toBe(false);
    expect(verifyConsistencyBetween(noteAt(9), noteAt(5), proof, key.verifierKey).ok).toBe(false);
    const otherLog = verifyConsistencyBetween(
      noteAt(5),
      noteAt(9, 'other.example/log'),
      proof,
      key.verifierKey,
    );
    expect(otherLog.links.at(-1)?.detail).toMatch(/different logs/);
    const otherKey = generateDeviceKey(ORIGIN);
    expect(
      summary(verifyConsistencyBetween(noteAt(5), noteAt(9, ORIGIN, otherKey), proof, key.verifierKey)),
    ).toEqual(['old-checkpoint:ok', 'new-checkpoint:failed', 'consistency:failed']);
    expect(verifyConsistencyBetween(noteAt(5), noteAt(9), [...proof, proof[0]!], key.verifierKey).ok).toBe(
      false,
    );
    expect(verifyConsistencyBetween(noteAt(5), noteAt(9), ['zz'], key.verifierKey).ok).toBe(false);
  });
});
