import { createDatabase } from '../database.js';
import type { CreateDatabaseOptions, Database } from '../database.js';
import type { DatabaseTarget } from '../url/resolve-database-url.js';
import { redactUrl } from '../url/resolve-database-url.js';
import { MigrationFileError } from './load-migrations.js';
import { DatabaseNewerThanCodeError, MigrationChecksumError, migrate } from './migrator.js';
import type { MigrateOptions } from './migrator.js';

/**
 * The database could not be opened or reached when a process started (a missing folder, PostgreSQL down,
 * a wrong password): unlike a refused migration, a later restart may succeed. Keeps the driver's error as
 * `cause`; the message is one line naming the (redacted) URL.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  constructor(
    readonly url: string,
    options: { readonly cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`cannot open the database ${url}: ${reason.split('\n')[0] ?? reason}`, options);
  }
}

/**
 * What a long-running process does first: open the database (or take `existing`, which the caller keeps
 * owning) and apply pending migrations. A refused migration (MigrationChecksumError,
 * DatabaseNewerThanCodeError, MigrationFileError) is rethrown as it is; any other failure becomes a DatabaseUnavailableError.
 * On failure a database this call opened is closed again, so nothing is left holding the process open.
 */
export async function openMigratedDatabase(
  target: DatabaseTarget,
  options: CreateDatabaseOptions & { readonly migrate?: MigrateOptions; readonly existing?: Database } = {},
): Promise<Database> {
  let database: Database | undefined = options.existing;
  try {
    database ??= createDatabase(target, options);
    await migrate(database, options.migrate);
    return database;
  } catch (err) {
    if (options.existing === undefined) await database?.close().catch(() => undefined);
    if (
      err instanceof MigrationChecksumError ||
      err instanceof DatabaseNewerThanCodeError ||
      err instanceof MigrationFileError
    )
      throw err;
    throw new DatabaseUnavailableError(redactUrl(target.url), { cause: err });
  }
}
