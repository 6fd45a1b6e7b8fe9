import { fileURLToPath } from 'node:url';
import { createDatabase, openMigratedDatabase } from '@fieldproof/db';
import type { CreateDatabaseOptions, Database, DatabaseTarget, MigrateOptions } from '@fieldproof/db';
import type { Kysely } from 'kysely';
import type { CollectorSchema } from './collector-schema.js';

/** The collector's own migrations: `migrations/collector/` (same depth from src/ and dist/). */
export const COLLECTOR_MIGRATIONS_DIR = fileURLToPath(
  new URL('../../../../migrations/collector/', import.meta.url),
);

/**
 * The collector's database: the same factory, engines and migrator as a unit's, a different migrations
 * folder. `db` is the same kysely instance as `database.db`, typed with the collector's tables (kysely's
 * schema type is compile-time only).
 */
export interface CollectorDatabase {
  readonly database: Database;
  readonly db: Kysely<CollectorSchema>;
  close(): Promise<void>;
}

export function collectorDatabaseOf(database: Database): CollectorDatabase {
  return {
    database,
    db: database.db as unknown as Kysely<CollectorSchema>,
    close: () => database.close(),
  };
}

/** Opens the collector's database and applies its pending migrations (what `fieldproof collector` does). */
export async function openCollectorDatabase(
  target: DatabaseTarget,
  options: CreateDatabaseOptions & { readonly migrate?: Omit<MigrateOptions, 'dir'> } = {},
): Promise<CollectorDatabase> {
  const database = await openMigratedDatabase(target, {
    ...options,
    migrate: { ...options.migrate, dir: COLLECTOR_MIGRATIONS_DIR },
  });
  return collectorDatabaseOf(database);
}

/** Opens without migrating (for callers that migrate themselves). */
export function createCollectorDatabase(
  target: DatabaseTarget,
  options: CreateDatabaseOptions = {},
): CollectorDatabase {
  return collectorDatabaseOf(createDatabase(target, options));
}
