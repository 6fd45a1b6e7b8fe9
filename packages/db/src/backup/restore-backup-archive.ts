import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import tar from 'tar-stream';
import type { DatabaseTarget } from '../url/resolve-database-url.js';
import {
  DATABASE_ENTRY,
  DEVICE_KEY_ENTRY,
  MANIFEST_ENTRY,
  contentEntryName,
  parseManifest,
} from './backup-manifest.js';
import type { BackupManifest, ManifestFile } from './backup-manifest.js';
import { RestoreError, assertNotInUse, inspectBackup, restoreSqlite } from './restore-database.js';
import type { RestoreResult } from './restore-database.js';
import { moveFile, fsyncFolder } from './durable-files.js';

export interface RestoreArchiveOptions {
  /** Where content goes (`<dataDir>/content/`) and replaced files are kept (`<dataDir>/replaced-<time>/`). */
  readonly dataDir: string;
  /** Where the device key goes. */
  readonly deviceKeyFile: string;
  readonly now?: () => Date;
  readonly migrationsDir?: string;
}

export interface RestoreArchiveResult {
  readonly manifest: BackupManifest;
  /** The database restored (SQLite); undefined on PostgreSQL (restore that with pg_restore). */
  readonly database: RestoreResult | undefined;
  /** Content files put in place, and those already there with the same size (left alone). */
  readonly contentRestored: number;
  readonly contentPresent: number;
  readonly key: 'restored' | 'unchanged' | 'not-in-archive';
  /** Where the files this restore replaced were moved (undefined when nothing was replaced). */
  readonly replacedDir: string | undefined;
}

const MANIFEST_LIMIT = 256 * 1024 * 1024;

/** True when `file` starts with the SQLite header: a database-only backup from before archives. */
export function isSqliteDatabaseFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(16);
    fs.readSync(fd, head, 0, 16, 0);
    return head.toString('latin1') === 'SQLite format 3\u0000';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Puts a backup archive (backup-manifest.ts) back: database, content and device key.
 *
 * 1. Extracts the archive into a staging folder inside `dataDir`, checking every entry against the
 *    manifest as it streams (no entry the manifest does not list, sizes and SHA-256 equal, content named
 *    by its hash, nothing missing); for SQLite, checks the snapshot (integrity_check, known migrations)
 *    and that it references exactly the content the archive holds; refuses while the live database is open.
 *    Any failure here throws {@link RestoreError} and leaves everything as it was.
 * 2. Adds the content files (a file already there with the same size is left alone; one that differs is
 *    moved aside), then the key, then the database (`restoreSqlite`). Everything replaced is moved into
 *    `<dataDir>/replaced-<UTC time>/`, never deleted.
 */
export async function restoreBackupArchive(
  target: DatabaseTarget,
  archive: string,
  options: RestoreArchiveOptions,
): Promise<RestoreArchiveResult> {
  const file = path.resolve(archive);
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile())
    throw new RestoreError(`${file}: no such file`);
  const dataDir = path.resolve(options.dataDir);
  const createdDataDir = !fs.existsSync(dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const staging = path.join(dataDir, `.restore-${process.pid}-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(staging, { mode: 0o700 });
  let changing = false;
  try {
    const manifest = await extractArchive(file, staging);
    const stagedDatabase = path.join(staging, DATABASE_ENTRY);
    if (target.engine === 'sqlite') {
      if (manifest.database === null) {
        throw new RestoreError(
          `${file}: holds no database (made on PostgreSQL); this unit's database is SQLite`,
        );
      }
      inspectBackup(stagedDatabase, options.migrationsDir);
      checkContentMatchesSnapshot(file, stagedDatabase, manifest);
      if (fs.existsSync(target.path)) assertNotInUse(target.path);
    } else if (manifest.database !== null) {
      throw new RestoreError(
        `${file}: holds a SQLite database, but this unit's database is PostgreSQL (API_DB_URL)`,
      );
    }

    changing = true;
    const stamp = (options.now?.() ?? new Date()).toISOString().replace(/[:.]/g, '-');
    const replacedDir = path.join(dataDir, `replaced-${stamp}`);
    let replacedAny = false;
    const setAside = (from: string, name: string) => {
      const to = path.join(replacedDir, name);
      fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
      moveFile(from, to);
      replacedAny = true;
    };

    let contentRestored = 0;
    let contentPresent = 0;
    const touched = new Set<string>();
    for (const entry of manifest.content) {
      const name = contentEntryName(entry.sha256);
      const live = path.join(dataDir, name);
      const existing = fs.statSync(live, { throwIfNoEntry: false });
      if (existing?.size === entry.bytes) {
        contentPresent++;
        continue;
      }
      if (existing !== undefined) setAside(live, name);
      fs.mkdirSync(path.dirname(live), { recursive: true, mode: 0o700 });
      fs.renameSync(path.join(staging, name), live);
      touched.add(path.dirname(live));
      contentRestored++;
    }
    for (const dir of touched) fsyncFolder(dir);

    let key: RestoreArchiveResult['key'] = 'not-in-archive';
    if (manifest.deviceKey !== null) {
      const staged = path.join(staging, DEVICE_KEY_ENTRY);
      const live = path.resolve(options.deviceKeyFile);
      if (fs.existsSync(live) && fs.readFileSync(live).equals(fs.readFileSync(staged))) key = 'unchanged';
      else {
        if (fs.existsSync(live)) setAside(live, DEVICE_KEY_ENTRY);
        fs.mkdirSync(path.dirname(live), { recursive: true, mode: 0o700 });
        moveFile(staged, live);
        fs.chmodSync(live, 0o600);
        key = 'restored';
      }
    }

    let database: RestoreResult | undefined;
    if (target.engine === 'sqlite') {
      database = restoreSqlite(target.path, stagedDatabase, {
        replacedDir,
        ...(options.now === undefined ? {} : { now: options.now }),
        ...(options.migrationsDir === undefined ? {} : { migrationsDir: options.migrationsDir }),
      });
      if (database.replacedFile !== undefined) replacedAny = true;
    }
    if (replacedAny) fsyncFolder(dataDir);
    return {
      manifest,
      database,
      contentRestored,
      contentPresent,
      key,
      replacedDir: replacedAny ? replacedDir : undefined,
    };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
    if (createdDataDir && !changing) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Streams the archive into `staging`, checking each entry against the manifest (its first entry) before and
 * while writing it; every file is fsynced. Returns the manifest once every listed file was found intact.
 */
async function extractArchive(file: string, staging: string): Promise<BackupManifest> {
  const refuse = (why: string) => new RestoreError(`${file}: refusing this archive: ${why}`);
  const input = fs.createReadStream(file);
  const extract = tar.extract();
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  let manifest: BackupManifest | undefined;
  const expected = new Map<string, ManifestFile>();
  try {
    for await (const entry of extract) {
      const { name, type, size } = entry.header;
      if (manifest === undefined) {
        if (name !== MANIFEST_ENTRY || type !== 'file') throw refuse('it does not start with manifest.json');
        if ((size ?? 0) > MANIFEST_LIMIT) throw refuse('manifest.json is too large');
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        const parsed = parseManifest(Buffer.concat(chunks).toString('utf8'));
        if (typeof parsed === 'string') throw refuse(parsed);
        manifest = parsed;
        if (parsed.database !== null) expected.set(DATABASE_ENTRY, parsed.database);
        if (parsed.deviceKey !== null) expected.set(DEVICE_KEY_ENTRY, parsed.deviceKey);
        for (const c of parsed.content) expected.set(contentEntryName(c.sha256), c);
        continue;
      }
      const want = expected.get(name);
      if (want === undefined) throw refuse(`${name} is not listed in the manifest (or appears twice)`);
      expected.delete(name);
      if (type !== 'file') throw refuse(`${name} is not a plain file`);
      if (size !== want.bytes) throw refuse(`${name} is ${size} bytes, the manifest says ${want.bytes}`);
      const target = path.join(staging, name);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      const handle = await fs.promises.open(target, 'wx', 0o600);
      const hash = createHash('sha256');
      try {
        for await (const chunk of entry) {
          hash.update(chunk as Buffer);
          await handle.write(chunk as Buffer);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      const actual = hash.digest('hex');
      if (actual !== want.sha256) {
        throw refuse(`${name} hashes to ${actual}, the manifest says ${want.sha256}`);
      }
    }
  } catch (err) {
    if (err instanceof RestoreError) throw err;
    throw refuse(`not a readable fieldproof backup archive (${(err as Error).message})`);
  } finally {
    input.destroy();
  }
  if (manifest === undefined) throw refuse('it is empty or not a tar archive');
  const missing = [...expected.keys()];
  if (missing.length > 0) {
    throw refuse(`${missing.length} file(s) the manifest lists are missing, e.g. ${missing[0]}`);
  }
  return manifest;
}

/** The snapshot must reference exactly the content the archive holds: an edited manifest shows here. */
function checkContentMatchesSnapshot(file: string, snapshot: string, manifest: BackupManifest): void {
  const db = new BetterSqlite3(snapshot, { readonly: true, fileMustExist: true });
  let referenced: string[];
  try {
    referenced = db
      .prepare('SELECT DISTINCT digest FROM evidence WHERE content_stored = 1')
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
  const held = new Set(manifest.content.map((c) => c.sha256));
  const missing = referenced.filter((d) => !held.has(d));
  if (missing.length > 0 || referenced.length !== held.size) {
    throw new RestoreError(
      `${file}: refusing this archive: the database references ${referenced.length} content file(s), ` +
        `the archive holds ${held.size}` +
        (missing.length > 0 ? ` (e.g. ${missing[0]} is missing)` : ''),
    );
  }
}
