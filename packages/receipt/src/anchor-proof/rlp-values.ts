import { RLP } from '@ethereumjs/rlp';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { AnchorProofError, type AnchorProofCheck } from './anchor-proof-error.js';

/**
 * Small, browser-safe helpers over `@ethereumjs/rlp` (which already refuses non-canonical lengths and
 * trailing bytes) for reading EVM structures: every failure becomes an `AnchorProofError` naming the
 * check and the item.
 */

export type RlpItem = Uint8Array | RlpItem[];

/** Decodes one RLP item that must span all of `bytes`. */
export function decodeRlp(bytes: Uint8Array, check: AnchorProofCheck, what: string): RlpItem {
  try {
    return RLP.decode(bytes);
  } catch (err) {
    throw new AnchorProofError(check, `${what} is not valid RLP (${(err as Error).message})`, { cause: err });
  }
}

export function rlpList(item: RlpItem, check: AnchorProofCheck, what: string): RlpItem[] {
  if (!Array.isArray(item)) throw new AnchorProofError(check, `${what} is an RLP string, expected a list`);
  return item;
}

export function rlpBytes(item: RlpItem | undefined, check: AnchorProofCheck, what: string): Uint8Array {
  if (item === undefined) throw new AnchorProofError(check, `${what} is missing`);
  if (Array.isArray(item)) throw new AnchorProofError(check, `${what} is an RLP list, expected a string`);
  return item;
}

/** An RLP scalar: big-endian, no leading zero byte, zero is the empty string (yellow paper, Appendix B). */
export function rlpUint(item: RlpItem | undefined, check: AnchorProofCheck, what: string): bigint {
  const bytes = rlpBytes(item, check, what);
  if (bytes.length > 0 && bytes[0] === 0) {
    throw new AnchorProofError(check, `${what} has a leading zero byte (not a canonical integer)`);
  }
  return bytes.length === 0 ? 0n : BigInt(`0x${bytesToHex(bytes)}`);
}

/** `rlpUint`, limited to JSON-safe integers (block numbers, timestamps, indices). */
export function rlpSafeInteger(item: RlpItem | undefined, check: AnchorProofCheck, what: string): number {
  const value = rlpUint(item, check, what);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new AnchorProofError(check, `${what} ${value} is above 2^53 - 1`);
  }
  return Number(value);
}

/** `0x` + lowercase hex, as JSON-RPC and our formats write bytes. */
export function hex0x(bytes: Uint8Array): string {
  return `0x${bytesToHex(bytes)}`;
}

const HEX_0X = /^0x(?:[0-9a-f]{2})*$/;

/** Bytes from `0x` + an even number of lowercase hex digits; anything else is refused. */
export function bytesFrom0x(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !HEX_0X.test(value)) {
    throw new AnchorProofError(
      'format',
      `${what} must be 0x followed by an even number of lowercase hex digits`,
    );
  }
  return hexToBytes(value.slice(2));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
