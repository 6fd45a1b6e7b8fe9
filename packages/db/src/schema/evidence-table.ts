import type { ColumnType, Insertable, Selectable } from 'kysely';

export type EvidenceSource = 'digest' | 'json' | 'bytes' | 'record';

/** `evidence`: append-only; the database refuses UPDATE and DELETE. */
export interface EvidenceTable {
  id: string;
  digest: string;
  kind: string;
  source: EvidenceSource;
  occurred_at: number;
  received_at: number;
  payload_mime: string | null;
  payload_size: number | null;
  /** The RFC 8785 canonical JSON the server hashed, for source 'json' and 'record'. */
  payload_json: string | null;
  /** Canonical JSON of the metadata object. */
  metadata: string | null;
  content_stored: 0 | 1;
  /**
   * Migration 0008. The leaf format: 1 (`fieldproof-leaf/v1`, every older row; the default) or 2
   * (`fieldproof-leaf/v2`). A v2 row has `clock_suspect` and either all four `not_before_*` or none
   * (the api had reached no chain); a v1 row has neither. `evidenceRecordOf` (@fieldproof/receipt) maps
   * a row to its leaf record.
   */
  leaf_version: ColumnType<number, number | undefined, never>;
  not_before_chain_id: number | null;
  not_before_number: number | null;
  not_before_hash: string | null;
  not_before_timestamp: number | null;
  clock_suspect: 0 | 1 | null;
}

/** `sequence_queue`: evidence committed but not yet given a leaf index. */
export interface SequenceQueueTable {
  evidence_id: string;
  enqueued_at: number;
}

/** A stored evidence row. */
export type EvidenceRow = Selectable<EvidenceTable>;
/** An evidence row to insert: its id and received time are always the caller's. */
export type NewEvidence = Insertable<EvidenceTable> & { readonly id: string; readonly received_at: number };
