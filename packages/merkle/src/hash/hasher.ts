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
/** SHA-256 of the UTF-8 bytes of a string. */
type Sha256Utf8 = (text: string) => Hash;

/**
 * SHA-256 through node:crypto's one-shot `hash` (OpenSSL), of bytes and of a string's UTF-8 bytes (which
 * OpenSSL hashes without a copy into a Uint8Array first), or `undefined` where there is no node:crypto
 * (a browser) or it gives a wrong answer. Reached through `process.getBuiltinModule` rather than an
 * import, so that this package still loads where node:crypto does not exist.
 */
function nodeCryptoSha256(): { readonly bytes: Sha256; readonly utf8: Sha256Utf8 } | undefined {
  type OneShotHash = (algorithm: string, data: Uint8Array | string, outputEncoding: 'latin1') => string;
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const crypto = host?.getBuiltinModule?.('node:crypto') as { hash?: OneShotHash } | undefined;
  const hash = crypto?.hash;
  if (typeof hash !== 'function') return undefined;
  // The digest as a latin1 string (one char per byte), copied into a plain Uint8Array: about twice as
  // fast as the 'buffer' output, whose every call makes a Buffer with a backing store of its own (and
  // GC work to free it) — measured on 65-byte inputs, issue 13. A plain Uint8Array, not a Buffer:
  // Buffer#slice shares memory where Uint8Array#slice copies.
  const bytesOf = (digest: string): Hash => {
    const bytes = new Uint8Array(HASH_SIZE);
    for (let i = 0; i < HASH_SIZE; i++) bytes[i] = digest.charCodeAt(i);
    return bytes;
  };
  const sha256: Sha256 = (data) => bytesOf(hash('sha256', data, 'latin1'));
  // A string argument is hashed as its UTF-8 encoding (node:crypto's documented default).
  const sha256Utf8: Sha256Utf8 = (text) => bytesOf(hash('sha256', text, 'latin1'));
  try {
    const probe = new Uint8Array([0x61, 0x62, 0x63]); // FIPS 180-2 "abc"
    const utf8Probe = 'é\u0000€😀';
    const agrees =
      equalBytes(sha256(probe), nobleSha256(probe)) &&
      equalBytes(sha256Utf8(utf8Probe), nobleSha256(UTF8.encode(utf8Probe)));
    return agrees ? { bytes: sha256, utf8: sha256Utf8 } : undefined;
  } catch {
    return undefined;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

const UTF8 = new TextEncoder();
const nodeHashes = nodeCryptoSha256();
const nodeSha256 = nodeHashes?.bytes;

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

/**
 * Leaf hash of the UTF-8 bytes of `text`: the same hash as `hashLeaf(new TextEncoder().encode(text))`,
 * without the two copies (encoding, then the prefixed input) where node:crypto hashes the string itself.
 * For leaf data that is text, as fieldproof's JSON leaves are.
 */
export function hashLeafUtf8(text: string): Hash {
  // U+0000 is the one-byte UTF-8 sequence 0x00: the leaf prefix.
  if (nodeHashes !== undefined) return nodeHashes.utf8(`\u0000${text}`);
  return hashLeaf(UTF8.encode(text));
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
