import { CompiledQuery, SqliteDialect, SqliteDriver } from 'kysely';
import type {
  DatabaseConnection,
  Driver,
  SqliteDatabase,
  SqliteDialectConfig,
  SqliteStatement,
} from 'kysely';

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

/** BEGIN IMMEDIATE transactions (above) and prepared statements cached by SQL text (below). */
export class SqliteImmediateDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    const { database } = config;
    this.#config = {
      ...config,
      database:
        typeof database === 'function'
          ? async () => withStatementCache(await database())
          : withStatementCache(database),
    };
  }
  override createDriver(): Driver {
    return new SqliteImmediateDriver(this.#config);
  }
}

/** How many prepared statements one connection keeps (least recently used dropped first). */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * The handle as kysely sees it, with prepared statements cached by SQL text. kysely's SQLite driver
 * prepares every query it runs, and compiling SQL is a large part of a short statement's cost (of a
 * multi-row insert most of all). A cached statement is reused only when it is not in the middle of an
 * iteration (better-sqlite3's `busy`); SQLite re-prepares a statement itself after a schema change.
 */
export function withStatementCache(handle: SqliteDatabase, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      handle.close();
    },
    prepare(sql) {
      const cached = cache.get(sql);
      if (cached !== undefined && (cached as { busy?: boolean }).busy !== true) {
        // A Map iterates in insertion order: re-inserting makes this the most recently used.
        cache.delete(sql);
        cache.set(sql, cached);
        return cached;
      }
      const stmt = handle.prepare(sql);
      if (cached === undefined) {
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}
