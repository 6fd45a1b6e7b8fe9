import { randomBytes } from 'node:crypto';
import { newId } from '@fieldproof/db';
import type { EvidenceTable, Schema } from '@fieldproof/db';
import type { Insertable, Kysely } from 'kysely';

/** A row as inserted: the columns with defaults (leaf format, not-before block) may be left out. */
type EvidenceInsert = Insertable<EvidenceTable>;

/**
 * A row of `evidence` as the tests write it straight into the table (the api's intake is tested on its
 * own): a digest-only record with every column set, random id and digest unless `fields` say otherwise.
 * `metadata` is canonical JSON text, as the api stores it.
 */
export function evidenceRow(fields: Partial<EvidenceInsert> = {}): EvidenceInsert {
  return {
    id: newId(),
    digest: randomBytes(32).toString('hex'),
    kind: 'detection',
    source: 'digest',
    occurred_at: 1,
    received_at: 2,
    payload_mime: null,
    payload_size: null,
    payload_json: null,
    metadata: null,
    content_stored: 0,
    ...fields,
  };
}

/** `n` rows, the i-th with `fields(i)` over the defaults. */
export function evidenceRows(
  n: number,
  fields: (i: number) => Partial<EvidenceInsert> = () => ({}),
): EvidenceInsert[] {
  return Array.from({ length: n }, (_, i) => evidenceRow(fields(i)));
}

/** Inserts one `evidenceRow(fields)` (no queue row, no leaf) and returns it. */
export async function insertEvidenceRow(
  db: Kysely<Schema>,
  fields: Partial<EvidenceInsert> = {},
): Promise<EvidenceInsert> {
  const row = evidenceRow(fields);
  await db.insertInto('evidence').values(row).execute();
  return row;
}
