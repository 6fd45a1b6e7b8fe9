import { sha256 } from '@noble/hashes/sha2.js';
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
// sha256 copies what it reads, so one scratch buffer can be reused instead of allocating 65 bytes per call.
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
