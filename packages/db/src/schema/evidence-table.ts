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
}

/** `sequence_queue`: evidence committed but not yet given a leaf index. */
export interface SequenceQueueTable {
  evidence_id: string;
  enqueued_at: number;
}
