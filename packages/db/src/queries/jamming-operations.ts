import type { Insertable, Kysely, Selectable } from 'kysely';
import type { JammingOperationTable } from '../schema/record-tables.js';
import type { Schema } from '../schema/schema.js';
import { afterCursor, pageOf } from './keyset.js';
import type { KeysetPage } from './keyset.js';
import type { RecordListFilter } from './record-list.js';

export type JammingOperationRow = Selectable<JammingOperationTable>;
export type NewJammingOperation = Insertable<JammingOperationTable>;

/** Inserts a started jamming operation. Its evidence entry (`evidence_id`) must be inserted first. */
export async function insertJammingOperation(trx: Kysely<Schema>, row: NewJammingOperation): Promise<void> {
  await trx.insertInto('jamming_operations').values(row).execute();
}

export interface JammingOperationEnd {
  readonly id: string;
  readonly endedAt: number;
  readonly successMetric: number | null;
  /** The evidence entry of the end, inserted first in the same transaction. */
  readonly endEvidenceId: string;
  readonly updatedAt: number;
}

/**
 * Ends a running operation. Returns false when there is no such operation or it has already ended (the
 * update is conditional, so two concurrent ends cannot both succeed). An `endedAt` before `started_at`
 * violates the table's CHECK constraint.
 */
export async function endJammingOperation(trx: Kysely<Schema>, end: JammingOperationEnd): Promise<boolean> {
  const result = await trx
    .updateTable('jamming_operations')
    .set({
      ended_at: end.endedAt,
      success_metric: end.successMetric,
      end_evidence_id: end.endEvidenceId,
      updated_at: end.updatedAt,
    })
    .where('id', '=', end.id)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function findJammingOperation(
  db: Kysely<Schema>,
  id: string,
): Promise<JammingOperationRow | undefined> {
  return db.selectFrom('jamming_operations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findJammingOperationByOperationId(
  db: Kysely<Schema>,
  operationId: string,
): Promise<JammingOperationRow | undefined> {
  return db
    .selectFrom('jamming_operations')
    .selectAll()
    .where('operation_id', '=', operationId)
    .executeTakeFirst();
}

export interface JammingOperationListFilter extends RecordListFilter {
  /** `active`: not ended yet; `ended`: ended. */
  readonly state?: 'active' | 'ended' | undefined;
}

/** A page in (started_at, id) order; `from` inclusive, `to` exclusive, on started_at. */
export async function listJammingOperations(
  db: Kysely<Schema>,
  filter: JammingOperationListFilter,
): Promise<KeysetPage<JammingOperationRow>> {
  let query = db.selectFrom('jamming_operations').selectAll();
  if (filter.operationId !== undefined) query = query.where('operation_id', '=', filter.operationId);
  if (filter.from !== undefined) query = query.where('started_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('started_at', '<', filter.to);
  if (filter.state === 'active') query = query.where('ended_at', 'is', null);
  if (filter.state === 'ended') query = query.where('ended_at', 'is not', null);
  if (filter.after !== undefined)
    query = query.where(afterCursor('started_at', 'id', filter.after, filter.order));
  const rows = await query
    .orderBy('started_at', filter.order)
    .orderBy('id', filter.order)
    .limit(filter.limit + 1)
    .execute();
  return pageOf(rows, filter.limit);
}
