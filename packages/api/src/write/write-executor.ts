import type { Database, SqliteOptions } from '@fieldproof/db';
import { applyWrites } from './apply-writes.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';
import type { WriteRequest, WriteResult } from './write-request.js';

/** Where batches are committed. */
export interface WriteExecutor {
  /** Commits the batch in one transaction; one result per write. Rejects when nothing was committed. */
  execute(requests: readonly WriteRequest[]): Promise<WriteResult[]>;
  close(): Promise<void>;
}

/**
 * The executor for this database (`sqliteOptions`: those it was opened with). SQLite (one writer; better-sqlite3 is synchronous): a writer thread
 * with its own connection, so the commit's fsync blocks that thread, not the event loop that serves
 * requests meanwhile. PostgreSQL: the shared pool on this thread (the driver is asynchronous already).
 */
export function createWriteExecutor(database: Database, sqliteOptions: SqliteOptions): WriteExecutor {
  if (database.capabilities.singleWriter && database.target.engine === 'sqlite') {
    return new SqliteWriterThread(database.target, sqliteOptions);
  }
  return {
    execute: (requests) => applyWrites(database.db, requests),
    close: async () => undefined,
  };
}
