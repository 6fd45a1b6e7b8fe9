import { sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';

export type SortOrder = 'asc' | 'desc';

/** One page of a keyset-paginated list; `more` says whether rows follow the last one. */
export interface KeysetPage<T> {
  readonly rows: T[];
  readonly more: boolean;
}

/**
 * The condition "after this (key, id) in this order", for keyset pagination over an index on (key, id).
 * A row-value comparison — both SQLite (3.15+) and PostgreSQL compare `(a, b) > (x, y)` lexicographically
 * and can use the (key, id) index for it. `keyColumn` and `idColumn` are column references, never input.
 */
export function afterCursor(
  keyColumn: string,
  idColumn: string,
  after: { readonly key: number; readonly id: string },
  order: SortOrder,
): Expression<SqlBool> {
  const op = sql.raw(order === 'desc' ? '<' : '>');
  return sql<SqlBool>`(${sql.ref(keyColumn)}, ${sql.ref(idColumn)}) ${op} (${after.key}, ${after.id})`;
}

/** Splits `limit + 1` fetched rows into a page and whether more follow. */
export function pageOf<T>(rows: T[], limit: number): KeysetPage<T> {
  const more = rows.length > limit;
  return { rows: more ? rows.slice(0, limit) : rows, more };
}
