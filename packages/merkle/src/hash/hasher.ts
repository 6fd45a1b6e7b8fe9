import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { InvalidHashError } from '../errors.js';

/**
 * RFC 6962 §2.1 hashing. The one-byte prefixes separate the leaf and interior-node domains: without them
 * an interior node's 64-byte preimage `left ‖ right` could be presented as leaf data, and a proof for that
 * fake "leaf" would verify (a second-preimage attack). With them, a leaf hash is SHA-256(0x00 ‖ …) and can
 * never equal an interior hash SHA-256(0x01 ‖ …) short of a SHA-256 collision.
 */

/** A SHA-256 hash: always exactly {@link HASH_SIZE} bytes. */
export type Hash = Uint8Array;

/** Bytes in a {@link Hash}. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

type Sha256 = (data: Uint8Array) => Hash;

/**
 * SHA-256 through node:crypto's one-shot `hash` (OpenSSL), or `undefined` where there is no node:crypto
 * (a browser) or it gives a wrong answer. Reached through `process.getBuiltinModule` rather than an
 * import, so that this package still loads where node:crypto does not exist.
 */
function nodeCryptoSha256(): Sha256 | undefined {
  type OneShotHash = (algorithm: string, data: Uint8Array, outputEncoding: 'latin1') => string;
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const crypto = host?.getBuiltinModule?.('node:crypto') as { hash?: OneShotHash } | undefined;
  const hash = crypto?.hash;
  if (typeof hash !== 'function') return undefined;
  const sha256: Sha256 = (data) => {
    // The digest as a latin1 string (one char per byte), copied into a plain Uint8Array: about twice as
    // fast as the 'buffer' output, whose every call makes a Buffer with a backing store of its own (and
    // GC work to free it) — measured on 65-byte inputs, issue 13. A plain Uint8Array, not a Buffer:
    // Buffer#slice shares memory where Uint8Array#slice copies.
    const digest = hash('sha256', data, 'latin1');
    const bytes = new Uint8Array(HASH_SIZE);
    for (let i = 0; i < HASH_SIZE; i++) bytes[i] = digest.charCodeAt(i);
    return bytes;
  };
  try {
    const probe = new Uint8Array([0x61, 0x62, 0x63]); // FIPS 180-2 "abc"
    return equalBytes(sha256(probe), nobleSha256(probe)) ? sha256 : undefined;
  } catch {
    return undefined;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

const nodeSha256 = nodeCryptoSha256();

/**
 * SHA-256 of `data`. On Node, node:crypto's one-shot `hash`: the node hash of appends and proofs runs on
 * 65-byte inputs, where @noble/hashes reaches about half of OpenSSL's speed. Where node:crypto is absent
 * (a browser verifier), @noble/hashes. Both give the same bytes (tested on random inputs).
 */
export const sha256: Sha256 = nodeSha256 ?? nobleSha256;

/** Which implementation {@link sha256} is: `node:crypto` on Node, `@noble/hashes` elsewhere. */
export const SHA256_BACKEND: 'node:crypto' | '@noble/hashes' =
  nodeSha256 === undefined ? '@noble/hashes' : 'node:crypto';

/** Both implementations, for the test that compares them; `node` is undefined without node:crypto. */
export const sha256Backends: { readonly node: Sha256 | undefined; readonly noble: Sha256 } = {
  node: nodeSha256,
  noble: nobleSha256,
};

/** Root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1, MTH({})). */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

/** Leaf hash of `data`: SHA-256(0x00 ‖ data). Any length of data, including none. */
export function hashLeaf(data: Uint8Array): Hash {
  const input = new Uint8Array(1 + data.length);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return sha256(input);
}

// hashChildren is the hot loop of appends and proofs. JS runs it to completion without interleaving and
// both SHA-256 implementations read their input before returning, so one scratch buffer can be reused
// instead of allocating 65 bytes per call.
const scratch = new Uint8Array(1 + 2 * HASH_SIZE);
scratch[0] = NODE_PREFIX;

/**
 * Interior node hash: SHA-256(0x01 ‖ left ‖ right).
 * Precondition: both are 32-byte hashes; otherwise throws {@link InvalidHashError}.
 */
export function hashChildren(left: Hash, right: Hash): Hash {
  if (left.length !== HASH_SIZE) throw new InvalidHashError('left', left.length);
  if (right.length !== HASH_SIZE) throw new InvalidHashError('right', right.length);
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  return sha256(scratch);
}
