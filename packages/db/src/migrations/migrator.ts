import type { Database, RawConnection } from '../database.js';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations } from './load-migrations.js';
import type { Migration } from './load-migrations.js';

/** An applied migration whose file was edited after it ran. */
export class MigrationChecksumError extends Error {
  override readonly name = 'MigrationChecksumError';
  constructor(
    readonly version: number,
    readonly migrationName: string,
    readonly applied: string,
    readonly file: string,
  ) {
    super(
      `migration ${version} (${migrationName}) was edited after it was applied: ` +
        `checksum in the database ${applied.slice(0, 12)}…, file ${file.slice(0, 12)}…. ` +
        'Applied migrations are frozen: restore the file and add a new migration instead.',
    );
  }
}

/** The database has a migration this code does not know: it was migrated by newer code. */
export class DatabaseNewerThanCodeError extends Error {
  override readonly name = 'DatabaseNewerThanCodeError';
  constructor(
    readonly version: number,
    readonly migrationName: string,
  ) {
    super(
      `the database has migration ${version} (${migrationName}), which this code does not know: ` +
        'it was migrated by a newer fieldproof. Run the newer version, or restore a backup taken before it.',
    );
  }
}

export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly appliedAt: number;
}

export interface MigrationStatus {
  readonly applied: readonly AppliedMigration[];
  readonly pending: readonly Migration[];
}

export interface MigrateOptions {
  readonly dir?: string;
  readonly now?: () => number;
  /** Called after each migration this process applied (for progress lines). */
  readonly onApplied?: (migration: Migration) => void;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/**
 * Applies pending migrations, each in its own transaction under the migration lock, re-reading what is
 * applied after taking the lock — so any number of processes may start at once on a fresh database:
 * exactly one applies each migration, the others wait for the lock and then find it applied.
 * Refuses (throws) on an edited applied migration or a database newer than the code.
 * Returns the migrations this call applied.
 */
export async function migrate(database: Database, options: MigrateOptions = {}): Promise<Migration[]> {
  const migrations = loadMigrations(database.capabilities.engine, options.dir ?? DEFAULT_MIGRATIONS_DIR);
  const now = options.now ?? Date.now;
  const appliedNow: Migration[] = [];
  for (;;) {
    const next = await database.withMigrationLock(async (conn) => {
      await conn.exec(CREATE_TABLE);
      const applied = await readApplied(conn);
      checkApplied(applied, migrations);
      const done = new Set(applied.map((a) => a.version));
      const migration = migrations.find((m) => !done.has(m.version));
      if (migration === undefined) return undefined;
      await conn.exec(migration.sql);
      await conn.query(
        'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
        [migration.version, migration.name, migration.checksum, now()],
      );
      return migration;
    });
    if (next === undefined) return appliedNow;
    appliedNow.push(next);
    options.onApplied?.(next);
  }
}

/** What is applied and what is pending; takes no lock and changes nothing. Throws like `migrate`. */
export async function migrationStatus(
  database: Database,
  options: { dir?: string } = {},
): Promise<MigrationStatus> {
  const migrations = loadMigrations(database.capabilities.engine, options.dir ?? DEFAULT_MIGRATIONS_DIR);
  const applied = (await database.tableExists('schema_migrations'))
    ? await readApplied({
        query: (sql, params) => database.rawQuery(sql, params),
        exec: async () => undefined,
      })
    : [];
  checkApplied(applied, migrations);
  const done = new Set(applied.map((a) => a.version));
  return { applied, pending: migrations.filter((m) => !done.has(m.version)) };
}

/** Throws unless every migration is applied (readiness, and the keeper's start). */
export async function assertMigrationsCurrent(
  database: Database,
  options: { dir?: string } = {},
): Promise<void> {
  const status = await migrationStatus(database, options);
  if (status.pending.length > 0) {
    throw new Error(`database is not migrated: pending ${status.pending.map((m) => m.version).join(', ')}`);
  }
}

async function readApplied(conn: RawConnection): Promise<AppliedMigration[]> {
  const rows = await conn.query<{ version: number; name: string; checksum: string; applied_at: number }>(
    'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => ({
    version: Number(r.version),
    name: r.name,
    checksum: r.checksum,
    appliedAt: Number(r.applied_at),
  }));
}

function checkApplied(applied: readonly AppliedMigration[], migrations: readonly Migration[]): void {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const a of applied) {
    const m = byVersion.get(a.version);
    if (m === undefined) throw new DatabaseNewerThanCodeError(a.version, a.name);
    if (!m.acceptedChecksums.includes(a.checksum))
      throw new MigrationChecksumError(a.version, a.name, a.checksum, m.checksum);
  }
}
