import { startWorker } from '../workers/start-worker.js';

/**
 * Long SQLite maintenance statements (VACUUM INTO, integrity_check, wal_checkpoint) on a worker thread
 * with its own connection. better-sqlite3 is synchronous: run on the caller's connection, a copy of a
 * large database would freeze the event loop (health checks, the sequencer) for its whole duration.
 * The worker: sqlite-maintenance-worker.ts.
 */
export type SqliteWorkerOp =
  | {
      readonly op: 'vacuumInto';
      readonly source: string;
      readonly target: string;
      readonly busyTimeoutMs: number;
    }
  | { readonly op: 'integrityCheck'; readonly file: string }
  | {
      readonly op: 'walCheckpoint';
      readonly file: string;
      readonly mode: 'PASSIVE' | 'FULL' | 'RESTART' | 'TRUNCATE';
      readonly busyTimeoutMs: number;
    };

/** An error the worker's SQLite raised, with its code (e.g. SQLITE_BUSY) kept for classification. */
export class SqliteWorkerError extends Error {
  override readonly name = 'SqliteWorkerError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Runs one maintenance operation on a fresh worker thread and connection; resolves to its result. */
export function runSqliteWorker<R>(task: SqliteWorkerOp): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const worker = startWorker(import.meta.url, 'sqlite-maintenance-worker', task);
    let settled = false;
    worker.once('message', (m: { ok: boolean; result?: R; message?: string; code?: string }) => {
      settled = true;
      if (m.ok) resolve(m.result as R);
      else reject(new SqliteWorkerError(m.message ?? 'SQLite worker failed', m.code));
    });
    worker.once('error', (err: unknown) => {
      settled = true;
      // @types/node 24 types the reason as unknown; a worker's error event carries an Error in practice.
      reject(err instanceof Error ? err : new SqliteWorkerError(String(err), undefined));
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new SqliteWorkerError(`SQLite worker exited with code ${code}`, undefined));
    });
  });
}
