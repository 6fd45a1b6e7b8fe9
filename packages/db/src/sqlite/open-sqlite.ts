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
  db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
  // Only a database not yet created takes a page size; an existing file keeps the one it has.
  if (!db.readonly && isEmptyFile(db.name)) db.pragma(`page_size = ${NEW_DATABASE_PAGE_SIZE}`);
  if (!db.readonly) switchToWal(db, options.busyTimeoutMs);
  if (!db.readonly) {
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    db.pragma(`wal_autocheckpoint = ${Math.round(WAL_AUTOCHECKPOINT_BYTES / pageSize)}`);
  }
  db.pragma('foreign_keys = ON');
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

/**
 * `journal_mode = WAL`, retried while another connection holds the lock it needs. Processes opening a
 * fresh file together (api and keeper on first start) can each hold a shared lock while asking for the
 * exclusive one; SQLite then answers SQLITE_BUSY at once, without its busy handler (which would wait for
 * each other forever). The mode is stored in the file, so this only races on a database's first opening.
 */
function switchToWal(db: BetterSqlite3.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      // Back off a little longer each time, with jitter so that two waiters do not collide again.
      Atomics.wait(PAUSE, 0, 0, Math.min(50, attempt * 2) + Math.random() * 5);
    }
  }
}

/**
 * The page size of a database fieldproof creates. A commit writes every b-tree page it dirtied to the WAL
 * whole, and one record dirties about one page in each of the evidence table's six b-trees (its random
 * digest lands anywhere in the unique index): smaller pages, fewer bytes per commit on the SD card.
 */
const NEW_DATABASE_PAGE_SIZE = 1024;

/**
 * How large the WAL grows before the committing connection copies it back into the database (SQLite's
 * default: 1 000 pages). A page rewritten by many commits in between is copied back once: the larger the
 * WAL, the fewer bytes per record reach the card. Set on every writing connection alike, since whichever
 * commits past the mark checkpoints. Measured: see BENCHMARKS.md, "The write path (issue 12)".
 */
const WAL_AUTOCHECKPOINT_BYTES = 16 * 1024 * 1024;

function isEmptyFile(filePath: string): boolean {
  try {
    return fs.statSync(filePath).size === 0;
  } catch {
    return false; // ':memory:' or a path that is not a plain file
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

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
