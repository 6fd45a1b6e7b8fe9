// Kysely-free (the api's SQLite writer thread takes it without kysely): see raw-sqlite.ts.

/**
 * The row count of the next multi-row statement for `remaining` rows: a power of two up to `maxRows`, so
 * a statement has at most log2(maxRows) + 1 SQL texts, each prepared once (see bulk-statement.ts).
 */
export function bulkChunkRows(remaining: number, maxRows: number): number {
  return remaining >= maxRows ? maxRows : 2 ** Math.floor(Math.log2(remaining));
}
