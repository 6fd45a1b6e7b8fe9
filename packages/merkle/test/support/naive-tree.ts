import { sha256 } from '@noble/hashes/sha2.js';

// A deliberately naive RFC 6962 reference: the recursive definitions of §2.1 (MTH), §2.1.1 (PATH) and
// §2.1.2 (PROOF / SUBPROOF) written out over the list of leaf hashes. It shares no code with the package —
// not even the hasher — so a bug there cannot hide in both. MTH results are memoised by range only to keep
// the exhaustive tests fast; the structure of the recursion is the RFC's.

type Hash = Uint8Array;

function nodeHash(left: Hash, right: Hash): Hash {
  return sha256(Uint8Array.from([0x01, ...left, ...right]));
}

/** Largest power of two strictly less than `n` (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class NaiveTree {
  readonly #memo = new Map<string, Hash>();

  constructor(readonly leaves: readonly Hash[]) {}

  /** MTH(D[begin:end]). */
  mth(begin: number, end: number): Hash {
    const n = end - begin;
    if (n === 0) return sha256(new Uint8Array(0));
    if (n === 1) return this.leaves[begin]!;
    const key = `${begin}:${end}`;
    let hash = this.#memo.get(key);
    if (hash === undefined) {
      const k = split(n);
      hash = nodeHash(this.mth(begin, begin + k), this.mth(begin + k, end));
      this.#memo.set(key, hash);
    }
    return hash;
  }

  root(size: number): Hash {
    return this.mth(0, size);
  }

  /** PATH(m, D[0:n]). */
  inclusionProof(m: number, n: number): Hash[] {
    return this.#path(m, 0, n);
  }

  #path(m: number, begin: number, end: number): Hash[] {
    const n = end - begin;
    if (n <= 1) return [];
    const k = split(n);
    return m < k
      ? [...this.#path(m, begin, begin + k), this.mth(begin + k, end)]
      : [...this.#path(m - k, begin + k, end), this.mth(begin, begin + k)];
  }

  /** PROOF(m, D[0:n]) for 0 < m ≤ n. */
  consistencyProof(m: number, n: number): Hash[] {
    return this.#subproof(m, 0, n, true);
  }

  #subproof(m: number, begin: number, end: number, b: boolean): Hash[] {
    const n = end - begin;
    if (m === n) return b ? [] : [this.mth(begin, end)];
    const k = split(n);
    return m <= k
      ? [...this.#subproof(m, begin, begin + k, b), this.mth(begin + k, end)]
      : [...this.#subproof(m - k, begin + k, end, false), this.mth(begin, begin + k)];
  }
}

/** Small seeded PRNG (mulberry32) so "random" batch splits are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Distinct leaf hashes for leaves `0 … count−1` (SHA-256(0x00 ‖ "leaf-<salt>-<i>")). */
export function distinctLeafHashes(count: number, salt = 0): Hash[] {
  const encoder = new TextEncoder();
  return Array.from({ length: count }, (_, i) =>
    sha256(Uint8Array.from([0x00, ...encoder.encode(`leaf-${salt}-${i}`)])),
  );
}
