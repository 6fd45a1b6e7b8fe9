import type { Database, SqliteOptions } from '@fieldproof/db';
import { applyWrites } from './apply-writes.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';
import type { WriteRequest, WriteResult } from './write-request.js';

/** Where batches are committed. */
export interface WriteExecutor {
  /**
   * Commits the batch (in one transaction, possibly shared with other batches: see maxBatchesInFlight);
   * one result per write. Rejects when nothing was committed.
   */
  execute(requests: readonly WriteRequest[]): Promise<WriteResult[]>;
  /**
   * How many batches may be handed over before the first is answered. 1: one at a time, each its own
   * transaction. More: the executor queues them and commits what queued up together.
   */
  readonly maxBatchesInFlight: number;
  close(): Promise<void>;
}

export interface WriteExecutorOptions {
  /** The most writes one transaction holds. */
  readonly maxTransactionWrites: number;
  /** Called after each committed transaction with its number of writes (metrics). */
  readonly onTransaction?: (writes: number) => void;
}

/**
 * The executor for this database (`sqliteOptions`: those it was opened with). SQLite (one writer;
 * better-sqlite3 is synchronous): a writer thread with its own connection, so the commit's fsync blocks
 * that thread, not the event loop that serves requests meanwhile. PostgreSQL: the shared pool on this
 * thread (the driver is asynchronous already), one batch per transaction.
 */
export function createWriteExecutor(
  database: Database,
  sqliteOptions: SqliteOptions,
  options: WriteExecutorOptions,
): WriteExecutor {
  if (database.capabilities.singleWriter && database.target.engine === 'sqlite') {
    return new SqliteWriterThread(database.target, sqliteOptions, options);
  }
  return {
    maxBatchesInFlight: 1,
    execute: async (requests) => {
      const results = await applyWrites(database.db, requests);
      options.onTransaction?.(requests.length);
      return results;
    },
    close: async () => undefined,
  };
}
