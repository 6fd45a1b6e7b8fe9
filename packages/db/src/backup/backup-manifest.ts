/**
 * A backup archive (`fieldproof backup`) is a POSIX tar file whose entries are, in this order:
 *
 *   manifest.json               this manifest (always first, so nothing is written before it is checked)
 *   database.sqlite3            the database snapshot (SQLite only; PostgreSQL: pg_dump)
 *   device.key                  the device's private key, mode 0600 (left out with --no-key)
 *   content/ab/cd/<sha256>      every content file the snapshot references, named by its SHA-256
 *
 * Restore accepts nothing else: an entry the manifest does not list, a listed entry that is missing, or
 * bytes whose size or SHA-256 differ from the manifest refuse the whole archive before anything changes.
 */
export const BACKUP_FORMAT = 'fieldproof-backup/v1';
export const MANIFEST_ENTRY = 'manifest.json';
export const DATABASE_ENTRY = 'database.sqlite3';
export const DEVICE_KEY_ENTRY = 'device.key';

/** One file in the archive, with what restore checks it against. */
export interface ManifestFile {
  readonly bytes: number;
  readonly sha256: string;
}

export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  /** The engine of the database backed up. */
  readonly engine: 'sqlite' | 'postgres';
  /** The SQLite snapshot, with what `inspectBackup` read from it; null on PostgreSQL (use pg_dump). */
  readonly database: (ManifestFile & { readonly schemaVersion: number; readonly evidence: number }) | null;
  /** Null when left out (`--no-key`, or the key comes from FIELDPROOF_DEVICE_KEY, not a file). */
  readonly deviceKey: ManifestFile | null;
  /** Every content file the database references; `sha256` is also its name. Sorted by digest. */
  readonly content: readonly ManifestFile[];
}

/** `content/ab/cd/<digest>`: the same layout as the api's content store. */
export function contentEntryName(digest: string): string {
  return `content/${digest.slice(0, 2)}/${digest.slice(2, 4)}/${digest}`;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Parses and checks a manifest's shape strictly (unknown fields, wrong types and duplicate content are
 * refused). Returns an error message instead of throwing, for the caller to wrap.
 */
export function parseManifest(text: string): BackupManifest | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'manifest.json is not JSON';
  }
  if (!isObject(value)) return 'manifest.json is not an object';
  const extra = Object.keys(value).filter(
    (k) => !['format', 'createdAt', 'engine', 'database', 'deviceKey', 'content'].includes(k),
  );
  if (extra.length > 0) return `manifest.json has unknown field ${extra[0]}`;
  if (value.format !== BACKUP_FORMAT) return `manifest.json format is not ${BACKUP_FORMAT}`;
  if (typeof value.createdAt !== 'string') return 'manifest.json createdAt is not a string';
  if (value.engine !== 'sqlite' && value.engine !== 'postgres') return 'manifest.json engine is invalid';
  if (value.database !== null) {
    const problem = fileProblem(value.database, ['schemaVersion', 'evidence']);
    if (problem !== undefined) return `manifest.json database ${problem}`;
  }
  if ((value.engine === 'sqlite') !== (value.database !== null))
    return 'manifest.json database does not match its engine';
  if (value.deviceKey !== null) {
    const problem = fileProblem(value.deviceKey, []);
    if (problem !== undefined) return `manifest.json deviceKey ${problem}`;
  }
  if (!Array.isArray(value.content)) return 'manifest.json content is not an array';
  const seen = new Set<string>();
  for (const file of value.content as unknown[]) {
    const problem = fileProblem(file, []);
    if (problem !== undefined) return `manifest.json content entry ${problem}`;
    const digest = (file as ManifestFile).sha256;
    if (seen.has(digest)) return `manifest.json lists content ${digest} twice`;
    seen.add(digest);
  }
  return value as unknown as BackupManifest;
}

function fileProblem(value: unknown, counters: readonly string[]): string | undefined {
  if (!isObject(value)) return 'is not an object';
  const allowed = ['bytes', 'sha256', ...counters];
  const extra = Object.keys(value).find((k) => !allowed.includes(k));
  if (extra !== undefined) return `has unknown field ${extra}`;
  if (typeof value.sha256 !== 'string' || !HEX64.test(value.sha256)) return 'has no valid sha256';
  for (const k of ['bytes', ...counters]) {
    if (!Number.isSafeInteger(value[k]) || (value[k] as number) < 0) return `has no valid ${k}`;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
