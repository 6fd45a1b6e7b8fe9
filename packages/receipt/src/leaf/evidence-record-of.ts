import type { JsonObject } from '../json/canonical-json.js';
import { LeafEncodingError } from '../errors.js';
import { LEAF_FORMAT_V2, type EvidenceRecord } from './encode-leaf-data.js';

/**
 * The columns of an `evidence` row a leaf is made of (migrations 0001 and 0008), as the database
 * returns them: snake_case, BIGINTs as numbers, metadata as its canonical JSON text. Declared here,
 * structurally, so that this browser-safe package needs no database package.
 */
export interface EvidenceRecordRow {
  readonly id: string;
  readonly digest: string;
  readonly kind: string;
  readonly occurred_at: number;
  readonly received_at: number;
  readonly payload_mime: string | null;
  /** Canonical JSON text of the metadata object, or null. */
  readonly metadata: string | null;
  /** 1: `fieldproof-leaf/v1` (every row written before migration 0008); 2: `fieldproof-leaf/v2`. */
  readonly leaf_version: number;
  /** The not-before block: the four columns are all set or all null (v1 rows: null). */
  readonly not_before_chain_id: number | null;
  readonly not_before_number: number | null;
  readonly not_before_hash: string | null;
  readonly not_before_timestamp: number | null;
  /** v2: 0 or 1; v1 rows: null. */
  readonly clock_suspect: number | null;
}

/**
 * The one evidence-row → leaf-record mapping: what the sequencer hashes, what receipts carry and what
 * the collector is pushed. Every leaf hash depends on it, so it is written once. A v1 row gives a record
 * without the v2 keys at all (its leaf hash is unchanged by the v2 columns' existence). Throws
 * `LeafEncodingError` for a row no leaf can be made of (an unknown version, half a block).
 */
export function evidenceRecordOf(row: EvidenceRecordRow): EvidenceRecord {
  const metadata = row.metadata === null ? null : (JSON.parse(row.metadata) as JsonObject);
  const base = {
    id: row.id,
    digest: row.digest,
    kind: row.kind,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    payloadMime: row.payload_mime,
    metadata,
  };
  const block = [
    row.not_before_chain_id,
    row.not_before_number,
    row.not_before_hash,
    row.not_before_timestamp,
  ];
  const set = block.filter((v) => v !== null).length;
  if (set !== 0 && set !== 4) {
    throw new LeafEncodingError('notBefore', 'the row has part of a not-before block (all four or none)');
  }
  if (row.leaf_version === 1) {
    if (set !== 0 || row.clock_suspect !== null) {
      throw new LeafEncodingError('leafFormat', 'a v1 row has a not-before block or a clock flag');
    }
    return base;
  }
  if (row.leaf_version !== 2) {
    throw new LeafEncodingError('leafFormat', `unknown leaf version ${String(row.leaf_version)}`);
  }
  if (row.clock_suspect !== 0 && row.clock_suspect !== 1) {
    throw new LeafEncodingError('clockSuspect', 'a v2 row must have clock_suspect 0 or 1');
  }
  return {
    ...base,
    leafFormat: LEAF_FORMAT_V2,
    notBefore:
      set === 0
        ? null
        : {
            chainId: row.not_before_chain_id!,
            number: row.not_before_number!,
            hash: row.not_before_hash!,
            timestamp: row.not_before_timestamp!,
          },
    clockSuspect: row.clock_suspect === 1,
  };
}
