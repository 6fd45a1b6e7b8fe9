import type { EvidenceTable } from '../schema/evidence-table.js';
import type { NewEvidence } from '../schema/evidence-table.js';
import { LEAF_COLUMNS } from './log/leaf-columns.js';

// Kysely-free (the api's SQLite writer thread takes it without kysely): see raw-sqlite.ts.

/**
 * The evidence columns in the order of their values in the multi-row evidence inserts: a leaf's columns,
 * then those no leaf is made of.
 */
export const EVIDENCE_COLUMNS = [
  ...LEAF_COLUMNS,
  'source',
  'payload_size',
  'payload_json',
  'content_stored',
] as const satisfies readonly (keyof EvidenceTable)[];

/**
 * One row's values, in EVIDENCE_COLUMNS order. A row that leaves out the leaf-format columns is a
 * `fieldproof-leaf/v1` row (the columns' defaults, migration 0008): the statement lists every column, so
 * the default is bound here.
 */
export const evidenceValues = (row: NewEvidence): unknown[] =>
  EVIDENCE_COLUMNS.map((c) => row[c] ?? (c === 'leaf_version' ? 1 : null));

/** The most evidence rows in one statement: 128 × 17 columns, far below SQLite's 32,766 parameters. */
export const EVIDENCE_INSERT_MAX_ROWS = 128;
