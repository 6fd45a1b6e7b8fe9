import type { Database, SqliteOptions } from '@fieldproof/db';
import { applyWrites } from './kysely-write-session.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';
import type { WriteExecutor, WriteExecutorOptions } from './write-executor.js';

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
