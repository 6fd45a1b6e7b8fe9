import { InvalidHexError } from '../errors.js';
import type { Hash } from './hasher.js';

const HEX_DIGITS = '0123456789abcdef';
const HASH_HEX = /^[0-9a-fA-F]{64}$/;

/** Lowercase hex of any bytes: the encoding hashes use in the database and in JSON. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 0x0f]!;
  return out;
}

/**
 * Parses a hash from hex. Strict: exactly 64 hex digits (either case), no prefix, no whitespace —
 * anything else throws {@link InvalidHexError}, so a truncated or padded hash never reaches a comparison.
 */
export function fromHex(hex: string): Hash {
  if (!HASH_HEX.test(hex)) throw new InvalidHexError(hex.length);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
