import type { Insertable, Kysely, Selectable } from 'kysely';
import type { CountermeasureTable } from '../schema/record-tables.js';
import type { Schema } from '../schema/schema.js';
import { afterCursor, pageOf } from './keyset.js';
import type { KeysetPage, SortOrder } from './keyset.js';
import type { RecordListFilter } from './record-list.js';

export type CountermeasureRow = Selectable<CountermeasureTable>;
export type NewCountermeasure = Insertable<CountermeasureTable>;

/** Inserts a countermeasure deployment. Its evidence entry (`evidence_id`) must be inserted first. */
export async function insertCountermeasure(trx: Kysely<Schema>, row: NewCountermeasure): Promise<void> {
  await trx.insertInto('countermeasures').values(row).execute();
}

export async function findCountermeasure(
  db: Kysely<Schema>,
  id: string,
): Promise<CountermeasureRow | undefined> {
  return db.selectFrom('countermeasures').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findCountermeasureByOperationId(
  db: Kysely<Schema>,
  operationId: string,
): Promise<CountermeasureRow | undefined> {
  return db
    .selectFrom('countermeasures')
    .selectAll()
    .where('operation_id', '=', operationId)
    .executeTakeFirst();
}

/** A page in (deployed_at, id) order; `from` inclusive, `to` exclusive, on deployed_at. */
export async function listCountermeasures(
  db: Kysely<Schema>,
  filter: RecordListFilter,
): Promise<KeysetPage<CountermeasureRow>> {
  const order: SortOrder = filter.order;
  let query = db.selectFrom('countermeasures').selectAll();
  if (filter.operationId !== undefined) query = query.where('operation_id', '=', filter.operationId);
  if (filter.from !== undefined) query = query.where('deployed_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('deployed_at', '<', filter.to);
  if (filter.after !== undefined) query = query.where(afterCursor('deployed_at', 'id', filter.after, order));
  const rows = await query
    .orderBy('deployed_at', order)
    .orderBy('id', order)
    .limit(filter.limit + 1)
    .execute();
  return pageOf(rows, filter.limit);
}
