import { hashLeaf } from '@fieldproof/merkle';
import {
  canonicalJson,
  canonicalJsonBytes,
  isJsonObject,
  sha256Hex,
  type JsonObject,
} from '../json/canonical-json.js';
import { CanonicalJsonError, LeafEncodingError } from '../errors.js';
import { HASH_HEX } from '../hex.js';

/** Version tag inside every leaf; a different encoding gets a different tag. */
export const LEAF_FORMAT = 'fieldproof-leaf/v1';

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
}

/** The JSON object whose RFC 8785 canonical form is the leaf data. */
export interface LeafObject {
  readonly format: typeof LEAF_FORMAT;
  readonly id: string;
  readonly digest: string;
  readonly kind: string;
  readonly occurredAt: number;
  readonly receivedAt: number;
  readonly payloadMime: string | null;
  readonly metadataDigest: string | null;
}

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

/** The leaf object of `record`, validated. Throws `LeafEncodingError`. */
export function leafObjectOf(record: EvidenceRecord): LeafObject {
  if (typeof record !== 'object' || record === null)
    throw new LeafEncodingError('record', 'must be an object');
  const { id, digest, kind, occurredAt, receivedAt, payloadMime = null, metadata = null } = record;
  nonEmptyString('id', id);
  if (typeof digest !== 'string' || !HASH_HEX.test(digest)) {
    throw new LeafEncodingError('digest', 'must be 64 lowercase hex digits (SHA-256)');
  }
  nonEmptyString('kind', kind);
  milliseconds('occurredAt', occurredAt);
  milliseconds('receivedAt', receivedAt);
  if (payloadMime !== null) nonEmptyString('payloadMime', payloadMime);
  return {
    format: LEAF_FORMAT,
    id,
    digest,
    kind,
    occurredAt,
    receivedAt,
    payloadMime,
    metadataDigest: metadataDigestOf(metadata),
  };
}

/**
 * Leaf data of `record` in `fieldproof-leaf/v1`: the UTF-8 bytes of the RFC 8785 canonical JSON of
 * `{format, id, digest, kind, occurredAt, receivedAt, payloadMime, metadataDigest}` (docs/FORMATS.md).
 */
export function encodeLeafData(record: EvidenceRecord): Uint8Array {
  const leaf = leafObjectOf(record);
  try {
    return new TextEncoder().encode(canonicalJson(leaf, 'leaf'));
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw new LeafEncodingError(err.path, err.reason, { cause: err });
    throw err;
  }
}

/** RFC 6962 leaf hash of `record`: SHA-256(0x00 ‖ encodeLeafData(record)). */
export function leafHashOf(record: EvidenceRecord): Uint8Array {
  return hashLeaf(encodeLeafData(record));
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
