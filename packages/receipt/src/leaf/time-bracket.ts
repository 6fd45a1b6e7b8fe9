import { LeafEncodingError } from '../errors.js';
import {
  LEAF_FORMAT,
  LEAF_FORMAT_V2,
  leafObjectOf,
  type EvidenceRecord,
  type LeafFormat,
  type LeafObject,
  type NotBeforeBlock,
} from './encode-leaf-data.js';

/** What a record says about its own time, apart from the device's `occurredAt`. */
export interface RecordTimeClaims {
  readonly leafFormat: LeafFormat;
  /**
   * The block the record was written after (the bracket's lower end), or null: a v1 leaf, or a v2 leaf
   * of a device that had not reached any chain yet.
   */
  readonly notBefore: NotBeforeBlock | null;
  /** v2: whether the api flagged its own clock as untrustworthy; null for a v1 leaf (it does not say). */
  readonly clockSuspect: boolean | null;
}

/**
 * The not-before block and the clock flag of a record (an `EvidenceRecord`, e.g. a receipt's
 * `evidence`), a leaf object (`{format: "fieldproof-leaf/…", …}`) or a leaf's data bytes, of either
 * leaf version. The input is validated as its leaf format requires; throws `LeafEncodingError`.
 * What the receipt verifier prints the bracket from.
 */
export function recordTimeClaimsOf(value: EvidenceRecord | LeafObject | Uint8Array): RecordTimeClaims {
  const leaf = value instanceof Uint8Array ? parseLeafData(value) : asLeafObject(value);
  if (leaf.format === LEAF_FORMAT) return { leafFormat: LEAF_FORMAT, notBefore: null, clockSuspect: null };
  return { leafFormat: LEAF_FORMAT_V2, notBefore: leaf.notBefore, clockSuspect: leaf.clockSuspect };
}

function asLeafObject(value: EvidenceRecord | LeafObject): LeafObject {
  if (typeof value !== 'object' || value === null) throw new LeafEncodingError('record', 'must be an object');
  if (!('format' in value)) return leafObjectOf(value);
  // A leaf object: re-validated through the record path (metadataDigest stands for metadata).
  const { format, metadataDigest, ...rest } = value;
  if (
    metadataDigest !== null &&
    (typeof metadataDigest !== 'string' || !/^[0-9a-f]{64}$/.test(metadataDigest))
  ) {
    throw new LeafEncodingError('metadataDigest', 'must be 64 lowercase hex digits or null');
  }
  const checked = leafObjectOf({ ...rest, leafFormat: format });
  return { ...checked, metadataDigest };
}

function parseLeafData(bytes: Uint8Array): LeafObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new LeafEncodingError('leaf', 'is not UTF-8 JSON', { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || !('format' in parsed)) {
    throw new LeafEncodingError('leaf', 'is not a leaf object (no format)');
  }
  return asLeafObject(parsed as LeafObject);
}
