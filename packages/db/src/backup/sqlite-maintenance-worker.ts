// A maintenance operation on its own connection (see sqlite-worker.ts), started by startWorker.
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { SqliteWorkerOp } from './sqlite-worker.js';

function run(task: SqliteWorkerOp): unknown {
  switch (task.op) {
    case 'vacuumInto': {
      const db = new BetterSqlite3(task.source, { fileMustExist: true });
      try {
        db.pragma(`busy_timeout = ${task.busyTimeoutMs}`);
        db.prepare('VACUUM INTO ?').run(task.target);
        return null;
      } finally {
        db.close();
      }
    }
    case 'integrityCheck': {
      const db = new BetterSqlite3(task.file, { fileMustExist: true, readonly: true });
      try {
        return (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
      } finally {
        db.close();
      }
    }
    case 'walCheckpoint': {
      const db = new BetterSqlite3(task.file, { fileMustExist: true });
      try {
        db.pragma(`busy_timeout = ${task.busyTimeoutMs}`);
        return (db.pragma(`wal_checkpoint(${task.mode})`) as unknown[])[0];
      } finally {
        db.close();
      }
    }
  }
}

try {
  parentPort!.postMessage({ ok: true, result: run(workerData as SqliteWorkerOp) });
} catch (err) {
  const e = err as { message?: unknown; code?: unknown };
  parentPort!.postMessage({ ok: false, message: String(e.message), code: e.code });
}
