import type { KeysetPage, NewEvidence, RecordListFilter, Schema } from '@fieldproof/db';
import type { Kysely } from 'kysely';
import type { WriteRequest } from '../write/write-request.js';

/** The fields every operational record shows, whatever its type. */
export interface RecordViewBase {
  id: string;
  /** The record's own evidence entry (digest of its canonical JSON). */
  evidenceId: string;
  operationId: string | null;
  relatedEvidenceId: string | null;
  createdAt: number;
}

/**
 * One kind of operational record: its table queries, JSON schemas and mapping. The routes
 * (record-routes.ts) are the same for every type: POST (with its evidence entry), GET list, GET :id.
 */
export interface RecordType<Body extends object, Row extends { id: string }, View extends RecordViewBase> {
  /** Singular, kebab-case; also the `kind` of the record's evidence entry and its `recordType`. */
  readonly name: string;
  /** Collection path, e.g. `/v1/countermeasures`. */
  readonly path: string;
  readonly tag: string;
  /** JSON schema of the POST body (closed object). */
  readonly bodySchema: { readonly properties: Record<string, unknown> } & object;
  /** JSON schema of the record as returned. */
  readonly viewSchema: object;
  /** Name of the time field lists are ordered and filtered by (in the view). */
  readonly timeField: string;
  /** Extra query-string properties of the list route (besides limit, cursor, order, from, to, operationId). */
  readonly listQueryProperties?: Record<string, unknown>;
  /** Checks across fields a schema cannot express; throws a catalogued 400. */
  validate?(body: Body): void;
  /** When the recorded event happened, by the client's account: the evidence entry's occurredAt. */
  occurredAt(body: Body): number;
  toRow(body: Body, ids: { id: string; evidenceId: string; createdAt: number }): Row;
  view(row: Row): View;
  /** The write of a new record with its evidence entry (see applyWrites). */
  request(evidence: NewEvidence, row: Row): WriteRequest;
  find(db: Kysely<Schema>, id: string): Promise<Row | undefined>;
  findByOperationId(db: Kysely<Schema>, operationId: string): Promise<Row | undefined>;
  list(db: Kysely<Schema>, filter: RecordListFilter & Record<string, unknown>): Promise<KeysetPage<Row>>;
}

/** Whether `row` records exactly what `body` says (for idempotent replays by operationId). */
export function sameRecord<View extends RecordViewBase>(
  view: View,
  body: object,
  fields: readonly string[],
): boolean {
  const shown = view as unknown as Record<string, unknown>;
  const sent = body as Record<string, unknown>;
  return fields.every((f) => JSON.stringify(shown[f] ?? null) === JSON.stringify(sent[f] ?? null));
}
