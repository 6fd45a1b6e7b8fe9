import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import tar from 'tar-stream';
import type { Database } from '../database.js';
import { BackupError, backupSqlite } from './backup-database.js';
import {
  BACKUP_FORMAT,
  DATABASE_ENTRY,
  DEVICE_KEY_ENTRY,
  MANIFEST_ENTRY,
  contentEntryName,
} from './backup-manifest.js';
import type { BackupManifest, ManifestFile } from './backup-manifest.js';
import { inspectBackup } from './restore-database.js';
import { fsyncFolder } from './durable-files.js';

/** Where a running archive backup is; reported through `onProgress`. */
export interface ArchiveProgress {
  readonly phase: 'database' | 'content' | 'syncing' | 'done';
  /** Content files archived so far, of `contentFiles`. */
  readonly contentDone: number;
  readonly contentFiles: number;
  readonly contentBytesDone: number;
  readonly contentBytes: number;
}

export interface BackupArchiveOptions {
  /** The data folder: content is read from `<dataDir>/content/`. */
  readonly dataDir: string;
  /** The device key file to include, or undefined to leave the key out. */
  readonly deviceKeyFile: string | undefined;
  /** Replace an existing `outFile` (default: refuse). */
  readonly overwrite?: boolean;
  readonly onProgress?: (progress: ArchiveProgress) => void;
  readonly now?: () => number;
}

export interface BackupArchiveResult {
  readonly file: string;
  readonly bytes: number;
  readonly durationMs: number;
  readonly manifest: BackupManifest;
}

/**
 * Writes one backup archive (layout: backup-manifest.ts) of a live unit — the api and keeper keep running:
 *
 * 1. SQLite: a consistent, integrity-checked snapshot (`backupSqlite`, VACUUM INTO) into a temporary file
 *    beside `outFile`; it lists the content files it references (`evidence.content_stored = 1`).
 *    PostgreSQL: no snapshot (back the database up with pg_dump first); the live database lists them.
 * 2. The manifest (size and SHA-256 of every file), the snapshot, the key (mode 0600 in the archive) and
 *    every referenced content file go into a tar written to a temporary 0600 file; each content file is
 *    hashed while it is copied and must hash to its name.
 * 3. fsync, rename to `outFile`, fsync the folder: `outFile` is either complete or absent.
 *
 * Throws {@link BackupError} (target exists, a referenced content file missing or corrupt, failed check);
 * nothing is left at the target then.
 */
export async function createBackupArchive(
  database: Database,
  outFile: string,
  options: BackupArchiveOptions,
): Promise<BackupArchiveResult> {
  const started = performance.now();
  const now = options.now ?? Date.now;
  const createdAt = new Date(now()).toISOString(); // every commit made before this time is in the snapshot
  const file = path.resolve(outFile);
  if (options.overwrite !== true && fs.existsSync(file)) {
    throw new BackupError(`${file} already exists (choose another file, or allow overwriting)`);
  }
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}`,
  );
  const snapshot = `${temporary}.sqlite3`;
  const progress = { contentDone: 0, contentFiles: 0, contentBytesDone: 0, contentBytes: 0 };
  const report = (phase: ArchiveProgress['phase']) => options.onProgress?.({ phase, ...progress });
  try {
    report('database');
    let databaseFile: (ManifestFile & { schemaVersion: number; evidence: number }) | null = null;
    let digests: string[];
    if (database.target.engine === 'sqlite') {
      await backupSqlite(database, snapshot);
      const summary = inspectBackup(snapshot);
      databaseFile = {
        ...(await hashFile(snapshot)),
        schemaVersion: summary.schemaVersion,
        evidence: summary.evidence,
      };
      digests = referencedContentInSnapshot(snapshot);
    } else {
      digests = await referencedContentInDatabase(database);
    }

    const contentRoot = path.join(options.dataDir, 'content');
    const content: ManifestFile[] = [];
    for (const digest of digests) {
      const stat = fs.statSync(path.join(options.dataDir, contentEntryName(digest)), {
        throwIfNoEntry: false,
      });
      if (stat === undefined) {
        throw new BackupError(
          `content ${digest} is referenced by the database but missing from ${contentRoot}; ` +
            'the backup would not be restorable whole',
        );
      }
      content.push({ bytes: stat.size, sha256: digest });
      progress.contentBytes += stat.size;
    }
    progress.contentFiles = content.length;

    let key: Buffer | undefined;
    if (options.deviceKeyFile !== undefined) {
      try {
        key = fs.readFileSync(options.deviceKeyFile);
      } catch (err) {
        throw new BackupError(
          `cannot read the device key ${options.deviceKeyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}); ` +
            'use --no-key to back up without it',
        );
      }
    }
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt,
      engine: database.target.engine,
      database: databaseFile,
      deviceKey: key === undefined ? null : { bytes: key.length, sha256: sha256(key) },
      content,
    };

    report('content');
    const pack = tar.pack();
    const out = fs.createWriteStream(temporary, { flags: 'wx', mode: 0o600 });
    const written = new Promise<void>((resolve, reject) => {
      out.on('finish', resolve);
      out.on('error', reject);
      pack.on('error', reject);
    });
    pack.pipe(out);
    const mtime = new Date(now());
    await addEntry(
      pack,
      { name: MANIFEST_ENTRY, mode: 0o600, mtime },
      Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`),
    );
    if (databaseFile !== null) {
      await addFile(pack, { name: DATABASE_ENTRY, mode: 0o600, mtime }, snapshot, databaseFile);
    }
    if (key !== undefined) await addEntry(pack, { name: DEVICE_KEY_ENTRY, mode: 0o600, mtime }, key);
    let lastReport = performance.now();
    for (const entry of content) {
      const name = contentEntryName(entry.sha256);
      await addFile(pack, { name, mode: 0o600, mtime }, path.join(options.dataDir, name), entry);
      progress.contentDone++;
      progress.contentBytesDone += entry.bytes;
      if (performance.now() - lastReport > 1000) {
        lastReport = performance.now();
        report('content');
      }
    }
    pack.finalize();
    await written;

    report('syncing');
    const handle = await fs.promises.open(temporary, 'r+');
    try {
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, file);
    fsyncFolder(dir);
    report('done');
    return {
      file,
      bytes: fs.statSync(file).size,
      durationMs: performance.now() - started,
      manifest,
    };
  } finally {
    await fs.promises.rm(temporary, { force: true });
    await fs.promises.rm(snapshot, { force: true });
  }
}

type Header = { name: string; mode: number; mtime: Date };

function addEntry(pack: tar.Pack, header: Header, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ ...header, size: data.length }, data, (err) => (err ? reject(err) : resolve()));
  });
}

/** Streams `file` into the archive, checking that its size and SHA-256 are what the manifest says. */
function addFile(pack: tar.Pack, header: Header, file: string, expected: ManifestFile): Promise<void> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const source = fs.createReadStream(file);
    const sink = pack.entry({ ...header, size: expected.bytes }, (err) => {
      if (err) return reject(new BackupError(`${file} changed while it was archived (${err.message})`));
      const actual = hash.digest('hex');
      if (actual !== expected.sha256) {
        return reject(
          new BackupError(`${file} hashes to ${actual}, not ${expected.sha256}: the stored file is corrupt`),
        );
      }
      resolve();
    });
    source.on('data', (chunk) => hash.update(chunk));
    source.on('error', (err) => {
      sink.destroy(err);
      reject(new BackupError(`cannot read ${file} (${err.message})`));
    });
    source.pipe(sink);
  });
}

/** Digests of the content files a SQLite snapshot references. */
function referencedContentInSnapshot(file: string): string[] {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT DISTINCT digest FROM evidence WHERE content_stored = 1 ORDER BY digest')
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

async function referencedContentInDatabase(database: Database): Promise<string[]> {
  const rows = await database.db
    .selectFrom('evidence')
    .select('digest')
    .distinct()
    .where('content_stored', '=', 1)
    .orderBy('digest')
    .execute();
  return rows.map((r) => r.digest);
}

async function hashFile(file: string): Promise<ManifestFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
