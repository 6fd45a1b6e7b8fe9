import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../database.js';

/** One migration as this engine will run it. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The file this engine runs: `NNNN_name.sql`, or `NNNN_name.<engine>.sql` where the engines differ. */
  readonly file: string;
  readonly sql: string;
  /**
   * SHA-256 hex of the file's text with LF line ends (CRLF read as LF, so a Windows checkout gives the
   * same value; for an LF file this is the SHA-256 of its bytes, as recorded before normalising).
   * An applied migration whose file changed is refused.
   */
  readonly checksum: string;
  /**
   * Every recorded checksum that stands for this text: `checksum`, and the SHA-256 of the same text with
   * CRLF line ends, which the migrator recorded when it ran from a CRLF checkout before normalising.
   */
  readonly acceptedChecksums: readonly string[];
}

/** The top-level `migrations/` folder (same depth from src/ and dist/). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../../migrations/', import.meta.url));

export class MigrationFileError extends Error {
  override readonly name = 'MigrationFileError';
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$/;

/**
 * Reads the migrations for one engine, sorted by version. A version is either one portable file or a
 * pair of engine files (`.sqlite.sql` and `.postgres.sql`): never both, never half a pair.
 */
export function loadMigrations(engine: Engine, dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const byVersion = new Map<
    number,
    { name: string; portable?: string; sqlite?: string; postgres?: string }
  >();
  for (const file of fs.readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE_PATTERN.exec(file);
    if (m === null)
      throw new MigrationFileError(`migrations/${file}: name must be NNNN_snake_name[.sqlite|.postgres].sql`);
    const version = Number(m[1]);
    const name = m[2]!;
    const variant = (m[3] ?? 'portable') as 'portable' | 'sqlite' | 'postgres';
    const entry = byVersion.get(version) ?? { name };
    if (entry.name !== name) {
      throw new MigrationFileError(`migration ${version}: two names (${entry.name}, ${name})`);
    }
    if (entry[variant] !== undefined)
      throw new MigrationFileError(`migration ${version}: duplicate ${variant} file`);
    entry[variant] = file;
    byVersion.set(version, entry);
  }
  const migrations: Migration[] = [];
  for (const [version, entry] of [...byVersion].sort((a, b) => a[0] - b[0])) {
    const engineSpecific = entry.sqlite !== undefined || entry.postgres !== undefined;
    if (engineSpecific && entry.portable !== undefined) {
      throw new MigrationFileError(`migration ${version}: has both a portable file and engine files`);
    }
    if (engineSpecific && (entry.sqlite === undefined || entry.postgres === undefined)) {
      throw new MigrationFileError(
        `migration ${version}: engine files come in pairs (.sqlite.sql and .postgres.sql)`,
      );
    }
    const file = (engineSpecific ? entry[engine] : entry.portable)!;
    const lf = withLfLineEnds(fs.readFileSync(path.join(dir, file)));
    const checksum = sha256Hex(lf);
    migrations.push(
      Object.freeze({
        version,
        name: entry.name,
        file,
        sql: lf.toString('utf8'),
        checksum,
        acceptedChecksums: Object.freeze([checksum, sha256Hex(withCrlfLineEnds(lf))]),
      }),
    );
  }
  return migrations;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * The bytes with every CR LF pair turned into LF (what git's autocrlf writes on Windows, undone). Works on
 * bytes, not decoded text, so an LF file comes back byte for byte and keeps the checksum it always had.
 */
function withLfLineEnds(bytes: Buffer): Buffer {
  if (!bytes.includes(CR)) return bytes;
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === CR && bytes[i + 1] === LF) continue;
    out[n++] = bytes[i]!;
  }
  return out.subarray(0, n);
}

/** LF-only bytes with every LF preceded by CR: the file as a CRLF checkout holds it. */
function withCrlfLineEnds(lf: Buffer): Buffer {
  const text = lf.toString('latin1'); // one char per byte: a byte-exact round trip whatever the encoding
  return Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
