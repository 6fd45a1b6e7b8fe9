import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_MIGRATIONS_DIR, createDatabase, migrate, parseDatabaseUrl } from '@fieldproof/db';
import type { Database, DatabaseTarget, Engine } from '@fieldproof/db';
import { closedAfterTest } from './lifetime.js';
import { rememberPgDatabase } from './pg-test-databases.js';

/**
 * Test databases on real engines. SQLite: a fresh file in a temp folder. PostgreSQL: a fresh database
 * created from FIELDPROOF_TEST_PG_URL (set by .ci/run); without it the PostgreSQL suites are skipped.
 */
export const TEST_PG_URL = process.env.FIELDPROOF_TEST_PG_URL ?? '';

/** The engines the storage suites run on here: always sqlite, postgres when configured. */
export function testEngines(): Engine[] {
  return TEST_PG_URL === '' ? ['sqlite'] : ['sqlite', 'postgres'];
}

export function tempDir(prefix = 'fieldproof-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A URL for a fresh, empty database of this engine (nothing is opened for SQLite). */
export async function freshDatabaseUrl(engine: Engine): Promise<string> {
  if (engine === 'sqlite') return `sqlite://${path.join(tempDir(), 'test.sqlite3')}`;
  if (TEST_PG_URL === '') throw new Error('FIELDPROOF_TEST_PG_URL is not set');
  const name = `fp_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  rememberPgDatabase(name);
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

// Dropped after each test file by test/support/setup-file.ts; callable earlier where a file needs it.
export { dropTestDatabases } from './pg-test-databases.js';

export function targetOf(url: string): DatabaseTarget {
  return parseDatabaseUrl(url, 'test');
}

/** A fresh database of this engine, migrated by the real migrator. */
export async function createTestDatabase(engine: Engine): Promise<Database> {
  const database = await createEmptyTestDatabase(engine);
  await migrate(database);
  return database;
}

/** {@link createTestDatabase} for the current test: closed when it ends, passed or failed. */
export async function databaseForTest(engine: Engine): Promise<Database> {
  return closedAfterTest(await createTestDatabase(engine));
}

/** A fresh database of this engine with nothing in it, not even the migrations table. */
export async function createEmptyTestDatabase(engine: Engine): Promise<Database> {
  return createDatabase(targetOf(await freshDatabaseUrl(engine)));
}

/**
 * The set-up of a migration test: a fresh database of this engine, closed when the test ends, migrated
 * by the real migrator up to `version` from a copy of the migrations folder (`dir`), to which the test
 * adds the migration under test with {@link addMigration} before migrating again.
 */
export async function databaseMigratedTo(
  engine: Engine,
  version: number,
): Promise<{ database: Database; dir: string }> {
  const dir = copyOfMigrations(version);
  const database = closedAfterTest(await createEmptyTestDatabase(engine));
  await migrate(database, { dir });
  return { database, dir };
}

/** Copies the files of migration `version` (both engines' variants) into the migrations folder `dir`. */
export function addMigration(dir: string, version: number): void {
  const prefix = `${String(version).padStart(4, '0')}_`;
  for (const f of fs.readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.startsWith(prefix))) {
    fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
  }
}

/**
 * A copy of the unit's migration files (`NNNN_name[.engine].sql`; not the collector's folder beside them)
 * that a test may edit: every version, or those up to `upTo`.
 */
export function copyOfMigrations(upTo = Number.POSITIVE_INFINITY): string {
  const dir = tempDir('fieldproof-migrations-');
  for (const f of fs.readdirSync(DEFAULT_MIGRATIONS_DIR)) {
    const version = /^(\d{4})_.*\.sql$/.exec(f)?.[1];
    if (version !== undefined && Number(version) <= upTo) {
      fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
    }
  }
  return dir;
}
