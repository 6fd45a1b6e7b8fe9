import { CompiledQuery } from 'kysely';
import type { Kysely } from 'kysely';
import { engineOf } from '../database.js';
import { bulkChunkRows } from './bulk-chunk-rows.js';
import type { Schema } from '../schema/schema.js';

/**
 * The one idiom for a statement that runs on many rows at once (evidence intake, the sequencer's leaves,
 * nodes and queue deletes): a multi-row statement whose SQL text is compiled by kysely once per engine
 * and row count, then only bound and run through the caller's `trx` (so it is part of its transaction on
 * both engines). Rows go in chunks of a power of two, so each statement has at most log2(maxRows) + 1
 * texts; on SQLite the connection's statement cache (database.ts) then prepares each text once.
 *
 * Why not kysely's builder per call: building and compiling a query tree costs about as much per row as
 * the database's own insert.
 */
export interface BulkStatement<T> {
  /** Names the statement in the text cache. */
  readonly name: string;
  /** The most rows in one statement: a power of two (parameters: far below every engine's limit). */
  readonly maxRows: number;
  /** The statement for `n` rows, built with placeholder values (only its SQL text is used). */
  readonly build: (db: Kysely<Schema>, n: number) => { compile(): { readonly sql: string } };
  /** One row's parameters, in the order the text binds them. */
  readonly values: (row: T) => readonly unknown[];
}

const texts = new Map<string, string>();

/** Runs `statement` on every row of `rows`, in power-of-two chunks, in the caller's transaction. */
export async function runBulk<T>(
  trx: Kysely<Schema>,
  statement: BulkStatement<T>,
  rows: readonly T[],
): Promise<void> {
  const engine = engineOf(trx);
  for (let start = 0; start < rows.length;) {
    const n = bulkChunkRows(rows.length - start, statement.maxRows);
    const key = `${statement.name}:${engine}:${n}`;
    let text = texts.get(key);
    if (text === undefined) {
      text = statement.build(trx, n).compile().sql;
      texts.set(key, text);
    }
    const params: unknown[] = [];
    for (let i = start; i < start + n; i++) params.push(...statement.values(rows[i]!));
    await trx.executeQuery(CompiledQuery.raw(text, params));
    start += n;
  }
}
