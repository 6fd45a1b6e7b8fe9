import type { Database } from '../database.js';
import { runSqliteWorker } from './sqlite-worker.js';

/** What `PRAGMA wal_checkpoint` answered. */
export interface WalCheckpointResult {
  /** 1 when the checkpoint could not finish (a reader or writer was in the way); it is retried next time. */
  readonly busy: number;
  /** Frames in the WAL file (−1 when not in WAL mode). */
  readonly log: number;
  /** Frames copied back into the database file. */
  readonly checkpointed: number;
}

/**
 * Runs `PRAGMA wal_checkpoint(<mode>)` (default TRUNCATE: copy the WAL back and truncate it to zero bytes)
 * on its own connection on a worker thread, waiting at most `busyTimeoutMs` for readers and writers, so
 * the caller's event loop is never blocked. SQLite only.
 */
export async function walCheckpointSqlite(
  database: Database,
  options: {
    readonly mode?: 'PASSIVE' | 'FULL' | 'RESTART' | 'TRUNCATE';
    readonly busyTimeoutMs?: number;
  } = {},
): Promise<WalCheckpointResult> {
  const { target } = database;
  if (target.engine !== 'sqlite') throw new Error('wal_checkpoint is a SQLite maintenance operation');
  const row = await runSqliteWorker<{ busy: number; log: number; checkpointed: number }>({
    op: 'walCheckpoint',
    file: target.path,
    mode: options.mode ?? 'TRUNCATE',
    busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
  });
  return { busy: Number(row.busy), log: Number(row.log), checkpointed: Number(row.checkpointed) };
}
