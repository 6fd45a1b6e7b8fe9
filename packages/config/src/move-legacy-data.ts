import fs from 'node:fs';
import path from 'node:path';
import type { FieldproofConfig } from './load-config.js';

/** One thing found in the old default data folder and what became of it. */
export interface LegacyDataMove {
  readonly name: 'device.key' | 'content' | 'backups';
  readonly from: string;
  readonly to: string;
  /** `moved`; `duplicate-removed`: the same file was already at `to`; `conflict`: left where it was. */
  readonly outcome: 'moved' | 'duplicate-removed' | 'conflict';
}

/** Both the old and the new place hold a device key, and they differ: which one signs this log is unclear. */
export class LegacyDataConflictError extends Error {
  override readonly name = 'LegacyDataConflictError';
}

/**
 * Before FIELDPROOF_DATA_DIR defaulted to `fieldproof-data/` beside the database, the database's own folder
 * was the data folder: `device.key`, `content/` and `backups/` lay beside `blockchain_outbox.sqlite3`. On a
 * unit upgraded without FIELDPROOF_DATA_DIR set, this moves them into the new data folder, so the unit
 * keeps its identity (a missing key would otherwise be created anew — or refused, when the log already has
 * one) and its stored content.
 *
 * Durable and safe when the api and keeper run it at the same time: a file is linked into its new place
 * (never overwriting) before the old name is removed, a folder is renamed whole, and every folder touched
 * is fsynced. A content file already present at the new place is the same bytes (content-addressed), so
 * the old copy is dropped. Two different device keys stop the start with {@link LegacyDataConflictError}.
 * Returns what it did (nothing when `config.legacyDataDir` is undefined or holds none of these).
 */
export function moveLegacyData(config: FieldproofConfig): LegacyDataMove[] {
  const legacy = config.legacyDataDir;
  if (legacy === undefined || path.resolve(legacy) === path.resolve(config.dataDir)) return [];
  const moves: LegacyDataMove[] = [];
  const oldKey = path.join(legacy, 'device.key');
  // Only the default key file moves: an explicit FIELDPROOF_DEVICE_KEY_FILE is where the operator put it.
  if (config.device.keyFile === path.join(config.dataDir, 'device.key') && isFile(oldKey)) {
    const outcome = moveKey(oldKey, config.device.keyFile);
    moves.push({ name: 'device.key', from: oldKey, to: config.device.keyFile, outcome });
  }
  for (const name of ['content', 'backups'] as const) {
    const from = path.join(legacy, name);
    if (!isDirectory(from)) continue;
    const to = path.join(config.dataDir, name);
    moves.push({ name, from, to, outcome: moveFolder(from, to) ? 'moved' : 'conflict' });
  }
  return moves;
}

function moveKey(from: string, to: string): LegacyDataMove['outcome'] {
  ensureFolder(path.dirname(to));
  try {
    fs.linkSync(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'moved'; // the other process moved it meanwhile
    if (code !== 'EEXIST') throw err;
    let old: Buffer;
    try {
      old = fs.readFileSync(from);
    } catch (readErr) {
      if (isGone(readErr)) return 'moved'; // the other process linked it and removed the old name
      throw readErr;
    }
    if (!old.equals(fs.readFileSync(to))) {
      throw new LegacyDataConflictError(
        `two different device keys: ${from} (the old default place) and ${to}; keep the one this log was ` +
          'started with (`fieldproof device` names it in the database) and move the other away',
      );
    }
    fs.rmSync(from, { force: true });
    fsyncFolder(path.dirname(from));
    return 'duplicate-removed';
  }
  fsyncFolder(path.dirname(to));
  fs.rmSync(from, { force: true });
  fsyncFolder(path.dirname(from));
  return 'moved';
}

/** Renames `from` to `to`, or merges it into an existing `to` file by file; false when something stayed. */
function moveFolder(from: string, to: string): boolean {
  ensureFolder(path.dirname(to));
  if (!fs.existsSync(to)) {
    try {
      fs.renameSync(from, to);
      fsyncFolder(path.dirname(to));
      fsyncFolder(path.dirname(from));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true; // moved by the other process
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
    }
  }
  let complete = true;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(from, { withFileTypes: true });
  } catch (err) {
    if (isGone(err)) return true; // the other process moved or merged it
    throw err;
  }
  // The other process (api and keeper start together) may be merging the same folder: an entry that
  // vanished under us was moved by it.
  for (const entry of entries) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    try {
      if (entry.isDirectory()) {
        if (!moveFolder(source, target)) complete = false;
      } else if (!fs.existsSync(target)) {
        fs.renameSync(source, target);
      } else if (fs.statSync(source).size === fs.statSync(target).size) {
        // Same name and size: a content file (named by its SHA-256) or a time-named backup: the same file.
        fs.rmSync(source, { force: true });
      } else complete = false;
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
  fsyncFolder(to);
  fsyncFolder(from);
  if (complete) fs.rmSync(from, { recursive: true, force: true });
  return complete;
}

function ensureFolder(dir: string): void {
  if (fs.existsSync(dir)) return;
  ensureFolder(path.dirname(dir));
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  fsyncFolder(path.dirname(dir));
}

function isGone(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() === true;
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}

function fsyncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not every platform can fsync a folder.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The log line for one move: what an operator reads to know where the file went. */
export function legacyMoveMessage(move: LegacyDataMove): string {
  if (move.outcome === 'conflict') {
    return `${move.from} (old default data folder) could not be merged into ${move.to}: files of the same name differ; left in place`;
  }
  if (move.outcome === 'duplicate-removed') {
    return `${move.from} (old default data folder) was the same as ${move.to}; removed the old copy`;
  }
  return `moved ${move.from} (old default data folder) to ${move.to} (FIELDPROOF_DATA_DIR default: fieldproof-data/ beside the database)`;
}
