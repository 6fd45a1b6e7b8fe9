import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Long SQLite maintenance statements (VACUUM INTO, integrity_check, wal_checkpoint) on a worker thread
 * with its own connection. better-sqlite3 is synchronous: run on the caller's connection, a copy of a
 * large database would freeze the event loop (health checks, the sequencer) for its whole duration.
 *
 * The worker is plain CommonJS evaluated from a string, so it runs the same from sources (tests) and
 * from dist; it requires better-sqlite3 by the path resolved here.
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

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const task = workerData.task;
function run() {
  if (task.op === 'vacuumInto') {
    const db = new Database(task.source, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = ' + task.busyTimeoutMs);
      db.prepare('VACUUM INTO ?').run(task.target);
      return null;
    } finally { db.close(); }
  }
  if (task.op === 'integrityCheck') {
    const db = new Database(task.file, { fileMustExist: true, readonly: true });
    try { return db.pragma('integrity_check').map((r) => r.integrity_check); } finally { db.close(); }
  }
  if (task.op === 'walCheckpoint') {
    const db = new Database(task.file, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = ' + task.busyTimeoutMs);
      return db.pragma('wal_checkpoint(' + task.mode + ')')[0];
    } finally { db.close(); }
  }
  throw new Error('unknown op ' + task.op);
}
try { parentPort.postMessage({ ok: true, result: run() }); }
catch (err) { parentPort.postMessage({ ok: false, message: String(err && err.message), code: err && err.code }); }
`;

const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');

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
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver: driverPath, task } });
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
