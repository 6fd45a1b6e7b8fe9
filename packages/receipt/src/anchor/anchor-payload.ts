import { AnchorPayloadError } from '../errors.js';
import { bytesFromHex } from '../hex.js';

/**
 * The calldata of an anchor transaction (docs/FORMATS.md):
 *
 * ```
 * offset  size  field
 *      0     4  magic "FPA1" (0x46 0x50 0x41 0x31)
 *      4    32  root (RFC 6962 root hash)
 *     36     8  treeSize, uint64 big-endian
 *     44     2  origin length in bytes, uint16 big-endian
 *     46     n  origin, UTF-8
 * ```
 */
export interface AnchorPayload {
  readonly origin: string;
  readonly treeSize: number;
  /** 32 bytes. */
  readonly root: Uint8Array;
}

/** "FPA1": FieldProof Anchor, layout version 1. */
export const ANCHOR_MAGIC = new Uint8Array([0x46, 0x50, 0x41, 0x31]);
const HEADER_SIZE = 4 + 32 + 8 + 2;
const MAX_ORIGIN_BYTES = 0xffff;

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The calldata bytes anchoring `{origin, treeSize, root}`. Throws `AnchorPayloadError`. */
export function encodeAnchorPayload(payload: AnchorPayload): Uint8Array {
  const { origin, treeSize, root } = payload;
  if (typeof origin !== 'string' || origin === '')
    throw new AnchorPayloadError('origin must be a non-empty string');
  if (/\p{Surrogate}/u.test(origin))
    throw new AnchorPayloadError('origin is not valid UTF-8 (lone surrogate)');
  const originBytes = new TextEncoder().encode(origin);
  if (originBytes.length > MAX_ORIGIN_BYTES) {
    throw new AnchorPayloadError(`origin is ${originBytes.length} bytes, at most ${MAX_ORIGIN_BYTES} fit`);
  }
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) {
    throw new AnchorPayloadError('treeSize must be a non-negative safe integer');
  }
  if (!(root instanceof Uint8Array) || root.length !== 32)
    throw new AnchorPayloadError('root must be 32 bytes');
  const out = new Uint8Array(HEADER_SIZE + originBytes.length);
  const view = new DataView(out.buffer);
  out.set(ANCHOR_MAGIC, 0);
  out.set(root, 4);
  view.setBigUint64(36, BigInt(treeSize));
  view.setUint16(44, originBytes.length);
  out.set(originBytes, HEADER_SIZE);
  return out;
}

/**
 * Decodes anchor calldata (bytes, or hex with or without `0x`). Strict: the magic must match, the
 * length must be exactly header + origin length, the origin non-empty valid UTF-8, and the tree size
 * at most 2^53 − 1. Throws `AnchorPayloadError`.
 */
export function decodeAnchorPayload(data: string | Uint8Array): AnchorPayload {
  const bytes = typeof data === 'string' ? bytesFromHex(data) : data;
  if (bytes === undefined) throw new AnchorPayloadError('not hex');
  if (!(bytes instanceof Uint8Array)) throw new AnchorPayloadError('expected bytes or a hex string');
  if (bytes.length < HEADER_SIZE)
    throw new AnchorPayloadError(`${bytes.length} bytes is shorter than the header`);
  for (let i = 0; i < ANCHOR_MAGIC.length; i++) {
    if (bytes[i] !== ANCHOR_MAGIC[i]) throw new AnchorPayloadError('magic is not "FPA1"');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getBigUint64(36);
  if (size > BigInt(Number.MAX_SAFE_INTEGER))
    throw new AnchorPayloadError(`treeSize ${size} exceeds 2^53 - 1`);
  const originLength = view.getUint16(44);
  if (bytes.length !== HEADER_SIZE + originLength) {
    throw new AnchorPayloadError(
      `length is ${bytes.length} bytes, the header says ${HEADER_SIZE + originLength}`,
    );
  }
  if (originLength === 0) throw new AnchorPayloadError('origin is empty');
  let origin: string;
  try {
    origin = UTF8_STRICT.decode(bytes.subarray(HEADER_SIZE));
  } catch {
    throw new AnchorPayloadError('origin is not valid UTF-8');
  }
  return { origin, treeSize: Number(size), root: bytes.slice(4, 36) };
}
