import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from '../migrations/load-migrations.js';
import { openSqlite } from '../sqlite/open-sqlite.js';
import { moveFile, fsyncFolder } from './durable-files.js';

/** A restore that was refused or failed; the live database was left as it was. */
export class RestoreError extends Error {
  override readonly name = 'RestoreError';
}

/** What a backup file holds, checked before anything is replaced. */
export interface BackupSummary {
  readonly file: string;
  readonly bytes: number;
  readonly schemaVersion: number;
  readonly evidence: number;
  readonly treeSize: number;
}

export interface RestoreResult extends BackupSummary {
  /** Where the database that was replaced now is (undefined when there was none). */
  readonly replacedFile: string | undefined;
}

/**
 * Checks that `file` is a sound fieldproof backup this code can run: integrity_check answers `ok`, and
 * its applied migrations are ones this code has, unedited. Opens the file read-only; changes nothing.
 */
export function inspectBackup(file: string, migrationsDir: string = DEFAULT_MIGRATIONS_DIR): BackupSummary {
  const absolute = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch {
    throw new RestoreError(`${absolute}: no such file`);
  }
  if (!stat.isFile()) throw new RestoreError(`${absolute}: not a file`);
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(absolute, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new RestoreError(`${absolute}: cannot be opened as SQLite (${(err as Error).message})`);
  }
  try {
    let check: string[];
    try {
      check = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
    } catch (err) {
      throw new RestoreError(
        `${absolute}: not a SQLite database (${(err as { code?: string }).code ?? 'unreadable'})`,
      );
    }
    if (check.length !== 1 || check[0] !== 'ok') {
      throw new RestoreError(`${absolute}: integrity_check failed: ${check.slice(0, 3).join('; ')}`);
    }
    const hasMigrations = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (hasMigrations === undefined)
      throw new RestoreError(`${absolute}: not a fieldproof database (no schema_migrations)`);
    const applied = db
      .prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
      .all() as {
      version: number;
      name: string;
      checksum: string;
    }[];
    const known = new Map(loadMigrations('sqlite', migrationsDir).map((m) => [m.version, m]));
    for (const a of applied) {
      const m = known.get(a.version);
      if (m === undefined) {
        throw new RestoreError(
          `${absolute}: has migration ${a.version} (${a.name}), which this code does not know: restore it with the newer fieldproof that made it`,
        );
      }
      if (!m.acceptedChecksums.includes(a.checksum)) {
        throw new RestoreError(
          `${absolute}: migration ${a.version} (${a.name}) differs from this code's file`,
        );
      }
    }
    const count = (sql: string) => Number((db.prepare(sql).get() as { n: number | null }).n ?? 0);
    return {
      file: absolute,
      bytes: stat.size,
      schemaVersion: applied.at(-1)?.version ?? 0,
      evidence: count('SELECT count(*) AS n FROM evidence'),
      treeSize: count('SELECT max(tree_size) AS n FROM log_checkpoints'),
    };
  } finally {
    db.close();
  }
}

/**
 * Replaces the SQLite database at `databasePath` with the backup `backupFile`:
 *
 * 1. checks the backup (inspectBackup);
 * 2. refuses while any other connection has the live database open — a WAL database cannot leave WAL
 *    mode while another connection is attached, so switching it to DELETE mode with no busy timeout is an
 *    exact "is anyone else here?" test (and checkpoints the WAL into the file being set aside);
 * 3. keeps the replaced database (and any -wal/-shm) as `<replacedDir>/<name>` — by default
 *    `<name>.replaced-<UTC timestamp>` next to it;
 * 4. copies the backup to a temporary file next to the target (0600), fsyncs it, renames it into place,
 *    fsyncs the folder, and opens it once the fieldproof way (WAL, verified PRAGMAs).
 */
export function restoreSqlite(
  databasePath: string,
  backupFile: string,
  options: { now?: () => Date; migrationsDir?: string; replacedDir?: string } = {},
): RestoreResult {
  const target = path.resolve(databasePath);
  const summary = inspectBackup(backupFile, options.migrationsDir);
  if (summary.file === target) throw new RestoreError('the backup is the database itself');
  let replacedFile: string | undefined;
  if (fs.existsSync(target)) {
    assertNotInUse(target);
    const stamp = (options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, '-');
    if (options.replacedDir === undefined) replacedFile = `${target}.replaced-${stamp}`;
    else {
      fs.mkdirSync(options.replacedDir, { recursive: true, mode: 0o700 });
      replacedFile = path.join(options.replacedDir, path.basename(target));
    }
    for (const suffix of ['', '-wal', '-shm']) {
      if (fs.existsSync(target + suffix)) moveFile(target + suffix, replacedFile + suffix);
    }
    fsyncFolder(path.dirname(replacedFile));
  }
  const dir = path.dirname(target);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temporary = path.join(dir, `.${path.basename(target)}.restore-${process.pid}.tmp`);
  try {
    fs.copyFileSync(summary.file, temporary, fs.constants.COPYFILE_EXCL);
    const fd = fs.openSync(temporary, 'r+');
    try {
      fs.fchmodSync(fd, 0o600);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, target);
    fsyncFolder(dir);
  } catch (err) {
    fs.rmSync(temporary, { force: true });
    if (replacedFile !== undefined && !fs.existsSync(target)) moveFile(replacedFile, target);
    throw err;
  }
  openSqlite(target).close();
  return { ...summary, replacedFile };
}

/**
 * Throws {@link RestoreError} while any other connection has the SQLite database `file` open. Leaves it in
 * rollback-journal (DELETE) mode with its WAL checkpointed; the next fieldproof open switches back to WAL.
 */
export function assertNotInUse(file: string): void {
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new BetterSqlite3(file, { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    const mode = String(db.pragma('journal_mode = DELETE', { simple: true })).toLowerCase();
    if (mode !== 'delete') throw inUse(file);
  } catch (err) {
    if (err instanceof RestoreError) throw err;
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) throw inUse(file);
    throw new RestoreError(`${file}: cannot open the live database (${(err as Error).message})`);
  } finally {
    db?.close();
  }
}

function inUse(file: string): RestoreError {
  return new RestoreError(
    `${file} is open in another process: stop the api and the keeper first ` +
      '(systemctl stop fieldproof-keeper fieldproof-api), then restore',
  );
}
