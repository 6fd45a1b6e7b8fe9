import { hashLeafUtf8 } from '@fieldproof/merkle';
import { canonicalJsonBytes, isJsonObject, sha256Hex, type JsonObject } from '../json/canonical-json.js';
import { CanonicalJsonError, LeafEncodingError } from '../errors.js';
import { EVM_HASH_HEX, HASH_HEX } from '../hex.js';

/** Version tag of the first leaf encoding; a record without `leafFormat` is encoded in it. */
export const LEAF_FORMAT = 'fieldproof-leaf/v1';
/** Version tag of the leaf that also carries the "not before" block and the clock flag. */
export const LEAF_FORMAT_V2 = 'fieldproof-leaf/v2';
export type LeafFormat = typeof LEAF_FORMAT | typeof LEAF_FORMAT_V2;

/**
 * A finalized block the api knew when it accepted a record: the record was written after it
 * (docs/FORMATS.md §1.2). The bracket's lower end.
 */
export interface NotBeforeBlock {
  /** EIP-155 chain id, ≥ 1. */
  readonly chainId: number;
  readonly number: number;
  /** `0x` + 64 lowercase hex digits. */
  readonly hash: string;
  /** Header timestamp in Unix milliseconds (seconds × 1000). */
  readonly timestamp: number;
}

/** The evidence fields a leaf commits to. */
export interface EvidenceRecord {
  /** Record id (a UUIDv7 in practice); any non-empty string. */
  readonly id: string;
  /** SHA-256 of the content: 64 lowercase hex digits. */
  readonly digest: string;
  readonly kind: string;
  /** Device's claim, Unix milliseconds. */
  readonly occurredAt: number;
  /** Server clock, Unix milliseconds. */
  readonly receivedAt: number;
  readonly payloadMime?: string | null;
  /** A JSON object, or null/absent. */
  readonly metadata?: JsonObject | null;
  /**
   * Absent (or `fieldproof-leaf/v1`): a v1 leaf, which has no `notBefore`/`clockSuspect`.
   * `fieldproof-leaf/v2`: both fields are required.
   */
  readonly leafFormat?: LeafFormat;
  /** v2: the newest finalized block the api knew, or `null` when it had never reached a chain. */
  readonly notBefore?: NotBeforeBlock | null;
  /** v2: the device clock was behind a time it had already seen when the record was accepted. */
  readonly clockSuspect?: boolean;
}

/** The JSON object whose RFC 8785 canonical form is a v1 leaf's data. */
export interface LeafObjectV1 {
  readonly format: typeof LEAF_FORMAT;
  readonly id: string;
  readonly digest: string;
  readonly kind: string;
  readonly occurredAt: number;
  readonly receivedAt: number;
  readonly payloadMime: string | null;
  readonly metadataDigest: string | null;
}

/** The JSON object whose RFC 8785 canonical form is a v2 leaf's data: v1's fields, then two more. */
export interface LeafObjectV2 extends Omit<LeafObjectV1, 'format'> {
  readonly format: typeof LEAF_FORMAT_V2;
  readonly notBefore: NotBeforeBlock | null;
  readonly clockSuspect: boolean;
}

export type LeafObject = LeafObjectV1 | LeafObjectV2;

/**
 * Lowercase hex SHA-256 of the RFC 8785 canonical JSON of `metadata`, or `null` when there is none
 * (`null` or `undefined`). An empty object `{}` is metadata, and has a digest.
 */
export function metadataDigestOf(metadata: JsonObject | null | undefined): string | null {
  if (metadata === null || metadata === undefined) return null;
  if (!isJsonObject(metadata)) throw new LeafEncodingError('metadata', 'must be a JSON object or null');
  try {
    return sha256Hex(canonicalJsonBytes(metadata, 'metadata'));
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw new LeafEncodingError(err.path, err.reason, { cause: err });
    throw err;
  }
}

/** The leaf object of `record`, validated, in the record's leaf format. Throws `LeafEncodingError`. */
export function leafObjectOf(record: EvidenceRecord): LeafObject {
  if (typeof record !== 'object' || record === null)
    throw new LeafEncodingError('record', 'must be an object');
  const { id, digest, kind, occurredAt, receivedAt, payloadMime = null, metadata = null } = record;
  const format: string = record.leafFormat ?? LEAF_FORMAT;
  if (format !== LEAF_FORMAT && format !== LEAF_FORMAT_V2) {
    throw new LeafEncodingError('leafFormat', 'must be "fieldproof-leaf/v1" or "fieldproof-leaf/v2"');
  }
  nonEmptyString('id', id);
  if (typeof digest !== 'string' || !HASH_HEX.test(digest)) {
    throw new LeafEncodingError('digest', 'must be 64 lowercase hex digits (SHA-256)');
  }
  nonEmptyString('kind', kind);
  milliseconds('occurredAt', occurredAt);
  milliseconds('receivedAt', receivedAt);
  if (payloadMime !== null) nonEmptyString('payloadMime', payloadMime);
  const metadataDigest = metadataDigestOf(metadata);
  if (format === LEAF_FORMAT) {
    // A v1 leaf cannot say either: a record that does must name v2, or its bracket would be dropped.
    for (const field of ['notBefore', 'clockSuspect'] as const) {
      if (record[field] !== undefined) {
        throw new LeafEncodingError(field, `is a field of ${LEAF_FORMAT_V2} only (set leafFormat)`);
      }
    }
    return { format, id, digest, kind, occurredAt, receivedAt, payloadMime, metadataDigest };
  }
  if (record.notBefore === undefined) {
    throw new LeafEncodingError('notBefore', 'is required in a v2 leaf (null: no chain reached yet)');
  }
  if (typeof record.clockSuspect !== 'boolean') {
    throw new LeafEncodingError('clockSuspect', 'must be true or false in a v2 leaf');
  }
  return {
    format,
    id,
    digest,
    kind,
    occurredAt,
    receivedAt,
    payloadMime,
    metadataDigest,
    notBefore: record.notBefore === null ? null : notBeforeBlock(record.notBefore),
    clockSuspect: record.clockSuspect,
  };
}

/**
 * Leaf data of `record`: the UTF-8 bytes of the RFC 8785 canonical JSON of its leaf object —
 * `fieldproof-leaf/v1` `{format, id, digest, kind, occurredAt, receivedAt, payloadMime, metadataDigest}`,
 * or `fieldproof-leaf/v2`, which adds `notBefore` and `clockSuspect` (docs/FORMATS.md §1).
 */
export function encodeLeafData(record: EvidenceRecord): Uint8Array {
  return UTF8.encode(leafDataText(record));
}

/** RFC 6962 leaf hash of `record`: SHA-256(0x00 ‖ encodeLeafData(record)). */
export function leafHashOf(record: EvidenceRecord): Uint8Array {
  return hashLeafUtf8(leafDataText(record));
}

/** Leaf data of `record` as text: what {@link encodeLeafData} encodes in UTF-8. */
function leafDataText(record: EvidenceRecord): string {
  return leafObjectText(leafObjectOf(record));
}

const UTF8 = new TextEncoder();
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * RFC 8785 canonical JSON of a leaf object from {@link leafObjectOf}, written field by field: the same
 * text as `canonicalJson(leaf)` (a test compares the two on generated records), at a fraction of its cost,
 * because every record a unit or a collector takes in is hashed through here. It holds because the shape
 * is fixed and already validated: the keys below are in RFC 8785 order (UTF-16 code units), the numbers are
 * safe integers (whose RFC 8785 form is their decimal digits) and RFC 8785 escapes strings as
 * `JSON.stringify` does — once lone surrogates, which RFC 8785 does not allow, are refused.
 */
function leafObjectText(leaf: LeafObject): string {
  let text = '{';
  if (leaf.format === LEAF_FORMAT_V2) text += `"clockSuspect":${leaf.clockSuspect},`;
  text +=
    `"digest":"${leaf.digest}","format":"${leaf.format}","id":${jsonString('id', leaf.id)},` +
    `"kind":${jsonString('kind', leaf.kind)},` +
    `"metadataDigest":${leaf.metadataDigest === null ? 'null' : `"${leaf.metadataDigest}"`},`;
  if (leaf.format === LEAF_FORMAT_V2) {
    const block = leaf.notBefore;
    text += `"notBefore":${
      block === null
        ? 'null'
        : `{"chainId":${block.chainId},"hash":"${block.hash}","number":${block.number},"timestamp":${block.timestamp}}`
    },`;
  }
  text +=
    `"occurredAt":${leaf.occurredAt},` +
    `"payloadMime":${leaf.payloadMime === null ? 'null' : jsonString('payloadMime', leaf.payloadMime)},` +
    `"receivedAt":${leaf.receivedAt}}`;
  return text;
}

/** A string field as RFC 8785 writes it; throws `LeafEncodingError` for a lone surrogate. */
function jsonString(field: string, value: string): string {
  if (LONE_SURROGATE.test(value))
    throw new LeafEncodingError(`leaf.${field}`, 'string holds a lone surrogate');
  return JSON.stringify(value);
}

/** A copy of `block` with exactly the four fields, validated. Throws `LeafEncodingError`. */
export function notBeforeBlock(block: NotBeforeBlock): NotBeforeBlock {
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    throw new LeafEncodingError('notBefore', 'must be {chainId, number, hash, timestamp} or null');
  }
  const { chainId, number, hash, timestamp } = block;
  for (const key of Object.keys(block)) {
    if (!['chainId', 'number', 'hash', 'timestamp'].includes(key)) {
      throw new LeafEncodingError(`notBefore.${key}`, 'is not a field of the not-before block');
    }
  }
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1) {
    throw new LeafEncodingError('notBefore.chainId', 'must be a positive integer (EIP-155 chain id)');
  }
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) {
    throw new LeafEncodingError('notBefore.number', 'must be a non-negative integer');
  }
  if (typeof hash !== 'string' || !EVM_HASH_HEX.test(hash)) {
    throw new LeafEncodingError('notBefore.hash', 'must be 0x + 64 lowercase hex digits');
  }
  milliseconds('notBefore.timestamp', timestamp);
  return { chainId, number, hash, timestamp };
}

function nonEmptyString(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '')
    throw new LeafEncodingError(field, 'must be a non-empty string');
}

function milliseconds(field: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new LeafEncodingError(field, 'must be a non-negative integer (Unix milliseconds)');
  }
}
