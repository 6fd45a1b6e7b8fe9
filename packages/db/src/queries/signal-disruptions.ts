import type { Insertable, Kysely, Selectable } from 'kysely';
import type { SignalDisruptionTable } from '../schema/record-tables.js';
import type { Schema } from '../schema/schema.js';
import { afterCursor, pageOf } from './keyset.js';
import type { KeysetPage } from './keyset.js';
import type { RecordListFilter } from './record-list.js';

export type SignalDisruptionRow = Selectable<SignalDisruptionTable>;
export type NewSignalDisruption = Insertable<SignalDisruptionTable>;

/** Inserts a signal-disruption audit. Its evidence entry (`evidence_id`) must be inserted first. */
export async function insertSignalDisruption(trx: Kysely<Schema>, row: NewSignalDisruption): Promise<void> {
  await trx.insertInto('signal_disruptions').values(row).execute();
}

export async function findSignalDisruption(
  db: Kysely<Schema>,
  id: string,
): Promise<SignalDisruptionRow | undefined> {
  return db.selectFrom('signal_disruptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findSignalDisruptionByOperationId(
  db: Kysely<Schema>,
  operationId: string,
): Promise<SignalDisruptionRow | undefined> {
  return db
    .selectFrom('signal_disruptions')
    .selectAll()
    .where('operation_id', '=', operationId)
    .executeTakeFirst();
}

/** A page in (occurred_at, id) order; `from` inclusive, `to` exclusive, on occurred_at. */
export async function listSignalDisruptions(
  db: Kysely<Schema>,
  filter: RecordListFilter,
): Promise<KeysetPage<SignalDisruptionRow>> {
  let query = db.selectFrom('signal_disruptions').selectAll();
  if (filter.operationId !== undefined) query = query.where('operation_id', '=', filter.operationId);
  if (filter.from !== undefined) query = query.where('occurred_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('occurred_at', '<', filter.to);
  if (filter.after !== undefined)
    query = query.where(afterCursor('occurred_at', 'id', filter.after, filter.order));
  const rows = await query
    .orderBy('occurred_at', filter.order)
    .orderBy('id', filter.order)
    .limit(filter.limit + 1)
    .execute();
  return pageOf(rows, filter.limit);
}
