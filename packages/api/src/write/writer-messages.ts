// What crosses between the SQLite writer thread and its owner (sqlite-writer-thread.ts ↔
// sqlite-writer-worker.ts): the contract in its own file, imported by both, importing neither.
import type { DatabaseTarget, SqliteOptions } from '@fieldproof/db/raw-sqlite';

/** What the writer thread is started with. */
export interface WriterData {
  readonly target: DatabaseTarget;
  readonly sqlite: SqliteOptions;
  readonly maxTransactionWrites: number;
}

/**
 * What crosses to the writer thread for one batch: the requests as ONE JSON string (they are plain
 * strings, numbers and nulls). Copying one string is cheaper for both threads than a structured clone of
 * an object graph per request.
 */
export interface WriterBatch {
  readonly type: 'batch';
  readonly id: number;
  readonly requests: string;
}

/**
 * What the writer thread answers for one transaction, which held the batches `ids`: `allOk` when every
 * write was applied and returned no row (the usual case: no per-write objects are built or copied), else
 * each batch's results as one JSON string, in the order of `ids`.
 */
export type WriterReply =
  | { readonly ids: readonly number[]; readonly allOk: true }
  | { readonly ids: readonly number[]; readonly results: readonly string[] }
  | {
      readonly ids: readonly number[];
      readonly error: { readonly message: string; readonly code?: string };
    };
