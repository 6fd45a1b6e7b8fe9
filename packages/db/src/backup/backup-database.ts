import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../database.js';
import { runSqliteWorker } from './sqlite-worker.js';

/** Where a running backup is; reported through `onProgress`. */
export type BackupPhase = 'copying' | 'checking' | 'syncing' | 'done';

export interface BackupProgress {
  readonly phase: BackupPhase;
  /** The final backup file. */
  readonly file: string;
  /** Bytes of the copy, once it exists (from `checking` on). */
  readonly bytes?: number;
}

export interface BackupOptions {
  readonly onProgress?: (progress: BackupProgress) => void;
  /** Replace an existing `outFile` (default: refuse). */
  readonly overwrite?: boolean;
  /** How long the copy waits for a lock it needs (default 15 s). */
  readonly busyTimeoutMs?: number;
}

export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly durationMs: number;
}

/** A backup that could not be made or did not check out; nothing was left at the target. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/**
 * A consistent online copy of a live SQLite database — other processes may keep writing meanwhile —
 * verified before it is put in place:
 *
 * 1. `VACUUM INTO` a temporary file next to `outFile` (pre-created 0600, so the copy is never readable by
 *    others). It reads one snapshot: every transaction committed before the backup started is in the
 *    copy. (Measured alternatives: a plain `cp` of a live WAL database held 0 of 300 committed rows — the
 *    rows were in the `-wal` file; better-sqlite3's `backup()` restarts whenever another process writes,
 *    and never finished under steady writes.)
 * 2. `PRAGMA integrity_check` on the copy must answer exactly `ok`.
 * 3. fsync the copy, rename it to `outFile`, fsync the folder.
 *
 * Copy and check run on a worker thread with their own connection, so the caller's event loop keeps
 * running. The copy is a plain rollback-journal database file: restore by copying it into place while
 * nothing has the database open. Throws {@link BackupError} (PostgreSQL, existing target, failed check).
 */
export async function backupSqlite(
  database: Database,
  outFile: string,
  options: BackupOptions = {},
): Promise<BackupResult> {
  const started = performance.now();
  const { target } = database;
  if (target.engine !== 'sqlite') {
    throw new BackupError(
      'online backup (VACUUM INTO) is for SQLite databases; back PostgreSQL up with pg_dump',
    );
  }
  const file = path.resolve(outFile);
  const source = path.resolve(target.path);
  if (file === source) throw new BackupError(`refusing to back ${source} up onto itself`);
  if (options.overwrite !== true && (await exists(file))) {
    throw new BackupError(`${file} already exists (choose another file, or allow overwriting)`);
  }
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const report = (phase: BackupPhase, bytes?: number) =>
    options.onProgress?.(bytes === undefined ? { phase, file } : { phase, file, bytes });
  try {
    await (await fs.open(temporary, 'wx', 0o600)).close();
    report('copying');
    await runSqliteWorker({
      op: 'vacuumInto',
      source,
      target: temporary,
      busyTimeoutMs: options.busyTimeoutMs ?? 15_000,
    });
    const { size } = await fs.stat(temporary);
    report('checking', size);
    const check = await runSqliteWorker<string[]>({ op: 'integrityCheck', file: temporary });
    if (check.length !== 1 || check[0] !== 'ok') {
      throw new BackupError(`integrity_check of the copy failed: ${check.slice(0, 5).join('; ')}`);
    }
    report('syncing', size);
    const handle = await fs.open(temporary, 'r+');
    try {
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
    await fsyncFolder(dir);
    report('done', size);
    return { file, bytes: size, durationMs: performance.now() - started };
  } catch (err) {
    await fs.rm(temporary, { force: true });
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function fsyncFolder(dir: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a folder; the file itself is durable already.
  } finally {
    await handle?.close();
  }
}
