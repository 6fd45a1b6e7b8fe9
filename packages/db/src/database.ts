import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteAdapter } from 'kysely';
import type { SqliteDatabase } from 'kysely';
import type pg from 'pg';
import { createPostgresPool } from './postgres/create-postgres-pool.js';
import { preparingPool } from './postgres/prepared-statements.js';
import type { Schema } from './schema/schema.js';
import { DEFAULT_SQLITE_OPTIONS, openSqlite, readPragmas } from './sqlite/open-sqlite.js';
import type { SqliteOptions, SqlitePragmas } from './sqlite/open-sqlite.js';
import { SqliteImmediateDialect } from './sqlite/sqlite-immediate-dialect.js';
import type { DatabaseTarget } from './url/resolve-database-url.js';

export type Engine = 'sqlite' | 'postgres';

/** What differs between the engines, in one place. Callers branch on capabilities, not on engine names. */
export interface EngineCapabilities {
  readonly engine: Engine;
  /** `SELECT … FOR UPDATE SKIP LOCKED` exists (PostgreSQL). On SQLite the write lock serialises claims. */
  readonly skipLocked: boolean;
  /** One writer at a time for the whole database (SQLite): group commit is the way to throughput. */
  readonly singleWriter: boolean;
}

/** A raw connection for the migrator: multi-statement SQL and `?` placeholders on both engines. */
export interface RawConnection {
  exec(sql: string): Promise<void>;
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** An open fieldproof database. `db` is the kysely instance every query module takes. */
export interface Database {
  readonly target: DatabaseTarget;
  readonly capabilities: EngineCapabilities;
  readonly db: Kysely<Schema>;
  /**
   * Runs `fn` in one transaction that holds the engine's migration lock: SQLite's write lock
   * (BEGIN IMMEDIATE) or a PostgreSQL transaction-scoped advisory lock. Both are released by the engine
   * when the holder dies, so a killed migrator never leaves the lock stuck.
   */
  withMigrationLock<T>(fn: (conn: RawConnection) => Promise<T>): Promise<T>;
  /** A read-only raw query outside any transaction (status pages, readiness). */
  rawQuery<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Whether a table exists (a read; takes no lock). */
  tableExists(name: string): Promise<boolean>;
  /** The better-sqlite3 handle (SQLite only): PRAGMA reads, VACUUM INTO, WAL checkpoints. */
  readonly sqlite: BetterSqlite3.Database | undefined;
  close(): Promise<void>;
}

export interface CreateDatabaseOptions {
  readonly sqlite?: SqliteOptions;
  readonly postgresPoolMax?: number;
}

/** The one database factory. Opening a SQLite file applies and verifies every PRAGMA. */
export function createDatabase(target: DatabaseTarget, options: CreateDatabaseOptions = {}): Database {
  return target.engine === 'sqlite'
    ? createSqliteDatabase(target, options.sqlite ?? DEFAULT_SQLITE_OPTIONS)
    : createPostgresDatabase(target, options.postgresPoolMax ?? 10);
}

function createSqliteDatabase(
  target: Extract<DatabaseTarget, { engine: 'sqlite' }>,
  options: SqliteOptions,
): Database {
  const handle = openSqlite(target.path, options);
  const db = new Kysely<Schema>({
    dialect: new SqliteImmediateDialect({ database: withStatementCache(handle) }, () => handle.inTransaction),
  });
  sqliteHandles.set(db, handle);
  const raw: RawConnection = {
    async exec(sql) {
      handle.exec(sql);
    },
    async query<R>(sql: string, params: readonly unknown[] = []) {
      const stmt = handle.prepare(sql);
      if (stmt.reader) return stmt.all(...params) as R[];
      stmt.run(...params);
      return [];
    },
  };
  return {
    target,
    capabilities: Object.freeze({ engine: 'sqlite', skipLocked: false, singleWriter: true }),
    db,
    sqlite: handle,
    async withMigrationLock(fn) {
      // Hold kysely's connection so no other query interleaves with the raw transaction.
      return db.connection().execute(async () => {
        handle.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(raw);
          handle.exec('COMMIT');
          return result;
        } catch (err) {
          if (handle.inTransaction) handle.exec('ROLLBACK');
          throw err;
        }
      });
    },
    async rawQuery(sql, params) {
      return db.connection().execute(() => raw.query(sql, params));
    },
    async tableExists(name) {
      const rows = await this.rawQuery("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [
        name,
      ]);
      return rows.length > 0;
    },
    async close() {
      await db.destroy(); // closes the better-sqlite3 handle
    },
  };
}

/**
 * kysely's SQLite driver prepares every query anew; for a statement that runs thousands of times a second
 * (proof node reads, the sequencer's reads) parsing and planning cost more than running it. This keeps
 * the most recently used statements by SQL text. A statement still being iterated (`busy`) is never handed
 * out twice: that caller gets a fresh one.
 */
function withStatementCache(handle: BetterSqlite3.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(text: string) {
      const cached = cache.get(text);
      if (cached !== undefined && !cached.busy) {
        cache.delete(text); // re-insert: most recently used last
        cache.set(text, cached);
        return cached;
      }
      const stmt = handle.prepare(text);
      if (cached === undefined) {
        cache.set(text, stmt);
        if (cache.size > max) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
    close() {
      cache.clear();
      handle.close();
    },
  };
}

/** A constant key for pg_advisory_xact_lock: "fieldproof migrations". */
const MIGRATION_LOCK_KEY = 7_266_047_261_540_102;

function createPostgresDatabase(
  target: Extract<DatabaseTarget, { engine: 'postgres' }>,
  poolMax: number,
): Database {
  const pool = createPostgresPool(target.url, poolMax);
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  const rawOn = (client: pg.PoolClient | pg.Pool): RawConnection => ({
    async exec(sql) {
      await client.query(sql);
    },
    async query<R>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(toDollarParams(sql), params as unknown[]);
      return result.rows as R[];
    },
  });
  return {
    target,
    capabilities: Object.freeze({ engine: 'postgres', skipLocked: true, singleWriter: false }),
    db,
    sqlite: undefined,
    async withMigrationLock(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
        const result = await fn(rawOn(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async rawQuery(sql, params) {
      return rawOn(pool).query(sql, params);
    },
    async tableExists(name) {
      const rows = await rawOn(pool).query<{ t: string | null }>('SELECT to_regclass(?)::text AS t', [name]);
      return rows[0]?.t != null;
    },
    async close() {
      await db.destroy();
      // kysely only ends a pool it has used; the migrator may have used it alone.
      if (!pool.ended) await pool.end();
    },
  };
}

/** Rewrites `?` placeholders to `$1…$n`. Only for the migrator's own statements, which hold no `?` literals. */
function toDollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Reads back the PRAGMAs of a SQLite database (undefined on PostgreSQL). */
export function sqlitePragmasOf(database: Database): SqlitePragmas | undefined {
  return database.sqlite === undefined ? undefined : readPragmas(database.sqlite);
}

/**
 * The engine behind a kysely instance or transaction, for the few hot statements that are written once
 * per engine (each explained where it is). Everything else is portable kysely.
 */
const sqliteHandles = new WeakMap<Kysely<Schema>, BetterSqlite3.Database>();

/**
 * The better-sqlite3 handle behind `db` (made by {@link createDatabase}) while no transaction is open on
 * it, else `undefined` — also on PostgreSQL and for a transaction's own `Kysely`. A hot read may then run
 * on the handle directly: better-sqlite3 is synchronous, so nothing interleaves with it, and with no
 * transaction open it reads only committed rows, as the same query through kysely would. Through kysely
 * the same one-statement read costs about 2.5× (its async connection queue and query pipeline; measured
 * on proof reads, issue 13). Anything else waits in kysely's queue as usual.
 */
export function idleSqliteHandle(db: Kysely<Schema>): BetterSqlite3.Database | undefined {
  const handle = sqliteHandles.get(db);
  return handle === undefined || handle.inTransaction || !handle.open ? undefined : handle;
}

export function engineOf(db: Kysely<Schema>): Engine {
  return db.getExecutor().adapter instanceof SqliteAdapter ? 'sqlite' : 'postgres';
}
