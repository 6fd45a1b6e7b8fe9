import { CompiledQuery, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDialectConfig } from 'kysely';

/**
 * kysely's SQLite driver opens transactions with a plain (deferred) BEGIN. A deferred transaction that
 * reads and then writes must upgrade its lock, and two processes doing so fail with SQLITE_BUSY no matter
 * the busy timeout. BEGIN IMMEDIATE takes the write lock up front, so writers queue instead.
 *
 * It also rolls back only a transaction that is still open. SQLite itself rolls a transaction back on
 * some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, …); kysely's ROLLBACK would then fail with
 * "cannot rollback - no transaction is active", and that error — not the one that caused it — would be
 * what the caller sees and logs.
 */
export class SqliteImmediateDriver extends SqliteDriver {
  readonly #inTransaction: () => boolean;
  constructor(config: SqliteDialectConfig, inTransaction: () => boolean) {
    super(config);
    this.#inTransaction = inTransaction;
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.#inTransaction()) return;
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
}

export class SqliteImmediateDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #inTransaction: () => boolean;
  /** `inTransaction`: whether the connection has a transaction open (better-sqlite3's `inTransaction`). */
  constructor(config: SqliteDialectConfig, inTransaction: () => boolean) {
    super(config);
    this.#config = config;
    this.#inTransaction = inTransaction;
  }
  override createDriver(): Driver {
    return new SqliteImmediateDriver(this.#config, this.#inTransaction);
  }
}
