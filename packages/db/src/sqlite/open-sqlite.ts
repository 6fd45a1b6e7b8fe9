import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export type SqliteSynchronous = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

export interface SqliteOptions {
  /** How long a writer waits for the write lock before SQLITE_BUSY. */
  readonly busyTimeoutMs: number;
  /** FULL unless the operator explicitly chooses otherwise: a 2xx must mean "on disk". */
  readonly synchronous: SqliteSynchronous;
  readonly readonly?: boolean;
}

export const DEFAULT_SQLITE_OPTIONS: SqliteOptions = Object.freeze({
  busyTimeoutMs: 15_000,
  synchronous: 'FULL',
});

/** The PRAGMAs as read back from a connection after they were set. */
export interface SqlitePragmas {
  readonly journalMode: string;
  readonly foreignKeys: number;
  readonly synchronous: number;
  readonly busyTimeout: number;
}

const SYNCHRONOUS_VALUES: Readonly<Record<SqliteSynchronous, number>> = {
  OFF: 0,
  NORMAL: 1,
  FULL: 2,
  EXTRA: 3,
};

/** A connection whose PRAGMAs did not take. Opening must fail rather than run unprotected. */
export class SqlitePragmaError extends Error {
  override readonly name = 'SqlitePragmaError';
  constructor(
    readonly pragma: string,
    readonly expected: string | number,
    readonly actual: unknown,
  ) {
    super(`SQLite PRAGMA ${pragma} is ${String(actual)}, expected ${expected}`);
  }
}

/**
 * Opens a SQLite file the way every fieldproof process must: folder 0700 and file 0600 when created,
 * WAL, foreign keys verified on, busy timeout, synchronous FULL by default. Extended result codes are
 * always on in better-sqlite3 (errors carry e.g. SQLITE_CONSTRAINT_UNIQUE); a test proves it.
 */
export function openSqlite(
  filePath: string,
  options: SqliteOptions = DEFAULT_SQLITE_OPTIONS,
): BetterSqlite3.Database {
  if (options.readonly !== true) ensureFile(filePath);
  const db = new BetterSqlite3(filePath, { readonly: options.readonly === true, fileMustExist: true });
  try {
    applyPragmas(db, options);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Sets and reads back every PRAGMA; throws SqlitePragmaError when one did not take. */
export function applyPragmas(db: BetterSqlite3.Database, options: SqliteOptions): SqlitePragmas {
  if (!db.readonly) db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
  db.pragma(`synchronous = ${options.synchronous}`);
  const pragmas = readPragmas(db);
  if (pragmas.journalMode !== 'wal') throw new SqlitePragmaError('journal_mode', 'wal', pragmas.journalMode);
  if (pragmas.foreignKeys !== 1) throw new SqlitePragmaError('foreign_keys', 1, pragmas.foreignKeys);
  const sync = SYNCHRONOUS_VALUES[options.synchronous];
  if (pragmas.synchronous !== sync) throw new SqlitePragmaError('synchronous', sync, pragmas.synchronous);
  if (pragmas.busyTimeout !== Math.trunc(options.busyTimeoutMs)) {
    throw new SqlitePragmaError('busy_timeout', options.busyTimeoutMs, pragmas.busyTimeout);
  }
  return pragmas;
}

export function readPragmas(db: BetterSqlite3.Database): SqlitePragmas {
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })).toLowerCase(),
    foreignKeys: Number(db.pragma('foreign_keys', { simple: true })),
    synchronous: Number(db.pragma('synchronous', { simple: true })),
    busyTimeout: Number(db.pragma('busy_timeout', { simple: true })),
  };
}

/** Creates missing folders 0700 and a missing file 0600; existing ones keep their modes. */
function ensureFile(filePath: string): void {
  const dir = path.dirname(filePath);
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      fs.mkdirSync(d, { mode: 0o700 });
      fs.chmodSync(d, 0o700); // the umask may have narrowed or widened nothing, but be exact
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  try {
    const fd = fs.openSync(filePath, 'wx', 0o600);
    fs.fchmodSync(fd, 0o600);
    fs.closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
