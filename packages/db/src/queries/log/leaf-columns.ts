// Kysely-free (the api's SQLite writer thread takes it through evidence-columns.ts).
import type { EvidenceRow } from '../../schema/evidence-table.js';

/** The evidence columns a leaf is made of (fieldproof-leaf/v1 and v2). */
export const LEAF_COLUMNS = [
  'id',
  'digest',
  'kind',
  'occurred_at',
  'received_at',
  'payload_mime',
  'metadata',
  'leaf_version',
  'not_before_chain_id',
  'not_before_number',
  'not_before_hash',
  'not_before_timestamp',
  'clock_suspect',
] as const satisfies readonly (keyof EvidenceRow)[];

/**
 * An evidence record's leaf columns: the evidence columns its leaf is made of (`evidenceRecordOf` in
 * @fieldproof/receipt maps them to the leaf record).
 */
export type LeafEvidence = Pick<EvidenceRow, (typeof LEAF_COLUMNS)[number]>;
