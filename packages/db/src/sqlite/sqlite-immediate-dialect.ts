import { CompiledQuery, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDialectConfig } from 'kysely';

/**
 * kysely's SQLite driver opens transactions with a plain (deferred) BEGIN. A deferred transaction that
 * reads and then writes must upgrade its lock, and two processes doing so fail with SQLITE_BUSY no matter
 * the busy timeout. BEGIN IMMEDIATE takes the write lock up front, so writers queue instead.
 */
export class SqliteImmediateDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

export class SqliteImmediateDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new SqliteImmediateDriver(this.#config);
  }
}
