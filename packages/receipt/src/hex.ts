import { toHex } from '@fieldproof/merkle';

/** 64 lowercase hex digits: how a hash is written in JSON (receipts, API) and the database. */
export const HASH_HEX = /^[0-9a-f]{64}$/;
/** An EVM 32-byte value (transaction or block hash) as JSON-RPC writes it, lowercased. */
export const EVM_HASH_HEX = /^0x[0-9a-f]{64}$/;
/** An EVM address, any case (EIP-55 checksummed or not). */
export const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * Hash bytes from 64 lowercase hex digits. Precondition: `HASH_HEX.test(hex)` (the receipt validator
 * checks every hash), which makes Node's lenient hex decoder safe here — and it is the hot path of
 * receipt verification.
 */
export function hashFromHex(hex: string): Uint8Array {
  if (NodeBuffer === undefined) return decodeHex(hex);
  const bytes = NodeBuffer.from(hex, 'hex');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// Node's Buffer where there is one (fast), a loop elsewhere (a browser bundle): the only platform seam here.
const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: 'hex'): Uint8Array } }).Buffer;

/** Precondition: an even number of hex digits (checked by the callers). */
function decodeHex(digits: string): Uint8Array {
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export { toHex };

/** Bytes from hex, with or without `0x`; `undefined` if `hex` is not an even number of hex digits. */
export function bytesFromHex(hex: string): Uint8Array | undefined {
  const digits = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return undefined;
  return NodeBuffer === undefined ? decodeHex(digits) : new Uint8Array(NodeBuffer.from(digits, 'hex'));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
