import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MIGRATIONS_DIR,
  DatabaseNewerThanCodeError,
  MigrationChecksumError,
  MigrationFileError,
  classifyDbError,
  createDatabase,
  loadMigrations,
  migrate,
  migrationStatus,
  newId,
} from '@fieldproof/db';
import {
  dropTestDatabases,
  freshDatabaseUrl,
  targetOf,
  tempDir,
  testEngines,
} from '../../../test/support/databases.js';
import { runNode } from '../../../test/support/processes.js';

afterAll(dropTestDatabases);

const CHILD = fileURLToPath(new URL('../../../test/support/migrate-child.mjs', import.meta.url));

/** A copy of the real migrations folder that a test may edit. */
function copyOfMigrations(): string {
  const dir = tempDir('fieldproof-migrations-');
  for (const f of fs.readdirSync(DEFAULT_MIGRATIONS_DIR)) {
    fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(dir, f));
  }
  return dir;
}

describe('loadMigrations', () => {
  it('picks the engine file of a pair and the portable file otherwise', () => {
    const sqlite = loadMigrations('sqlite');
    const postgres = loadMigrations('postgres');
    expect(sqlite.map((m) => m.version)).toEqual(postgres.map((m) => m.version));
    expect(sqlite[0]!.file).toBe(postgres[0]!.file);
    expect(sqlite[1]!.file).toMatch(/\.sqlite\.sql$/);
    expect(postgres[1]!.file).toMatch(/\.postgres\.sql$/);
    expect(sqlite[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses half a pair, a bad name and a duplicate', () => {
    const dir = copyOfMigrations();
    fs.writeFileSync(path.join(dir, '0099_only_sqlite.sqlite.sql'), 'SELECT 1;');
    expect(() => loadMigrations('sqlite', dir)).toThrow(/migration 99: engine files come in pairs/);
    fs.rmSync(path.join(dir, '0099_only_sqlite.sqlite.sql'));
    fs.writeFileSync(path.join(dir, 'add-stuff.sql'), 'SELECT 1;');
    expect(() => loadMigrations('sqlite', dir)).toThrow(MigrationFileError);
  });
});

describe.each(testEngines())('migrator (%s)', (engine) => {
  it('applies everything once, records checksums, and is idempotent', async () => {
    const database = createDatabase(targetOf(await freshDatabaseUrl(engine)));
    const before = await migrationStatus(database);
    expect(before.applied).toEqual([]);
    expect(before.pending.length).toBe(loadMigrations(engine).length);
    const applied = await migrate(database);
    expect(applied.map((m) => m.version)).toEqual(loadMigrations(engine).map((m) => m.version));
    expect(await migrate(database)).toEqual([]);
    const after = await migrationStatus(database);
    expect(after.pending).toEqual([]);
    expect(after.applied.map((a) => a.checksum)).toEqual(loadMigrations(engine).map((m) => m.checksum));
    await database.close();
  });

  it('refuses an edited applied migration, naming its version', async () => {
    const dir = copyOfMigrations();
    const database = createDatabase(targetOf(await freshDatabaseUrl(engine)));
    await migrate(database, { dir });
    fs.appendFileSync(path.join(dir, '0001_init.sql'), '\n-- a harmless-looking edit\n');
    await expect(migrate(database, { dir })).rejects.toThrow(MigrationChecksumError);
    await expect(migrate(database, { dir })).rejects.toThrow(/migration 1 \(init\) was edited/);
    await expect(migrationStatus(database, { dir })).rejects.toThrow(MigrationChecksumError);
    await database.close();
  });

  it('refuses a database newer than the code, naming the version', async () => {
    const dir = copyOfMigrations();
    fs.writeFileSync(
      path.join(dir, '0900_from_the_future.sql'),
      'CREATE TABLE future_thing (id TEXT PRIMARY KEY);\n',
    );
    const database = createDatabase(targetOf(await freshDatabaseUrl(engine)));
    await migrate(database, { dir });
    const older = copyOfMigrations();
    await expect(migrate(database, { dir: older })).rejects.toThrow(DatabaseNewerThanCodeError);
    await expect(migrate(database, { dir: older })).rejects.toThrow(/migration 900 \(from_the_future\)/);
    await database.close();
  });

  it('a failing migration rolls back alone and leaves earlier ones applied', async () => {
    const dir = copyOfMigrations();
    fs.writeFileSync(
      path.join(dir, '0901_broken.sql'),
      'CREATE TABLE half_done (id TEXT);\nSELECT * FROM no_such_table;\n',
    );
    const database = createDatabase(targetOf(await freshDatabaseUrl(engine)));
    await expect(migrate(database, { dir })).rejects.toThrow();
    const status = await migrationStatus(database, { dir });
    expect(status.pending.map((m) => m.version)).toEqual([901]);
    expect(await database.tableExists('half_done')).toBe(false);
    await database.close();
  });

  it('evidence is append-only in the database itself', async () => {
    const database = createDatabase(targetOf(await freshDatabaseUrl(engine)));
    await migrate(database);
    const id = newId();
    await database.db
      .insertInto('evidence')
      .values({
        id,
        digest: 'd'.repeat(64),
        kind: 'photo',
        source: 'digest',
        occurred_at: 1,
        received_at: 2,
        payload_mime: null,
        payload_size: null,
        payload_json: null,
        metadata: null,
        content_stored: 0,
      })
      .execute();
    const update = await database.db
      .updateTable('evidence')
      .set({ kind: 'forged' })
      .where('id', '=', id)
      .execute()
      .catch((e: unknown) => e);
    expect(classifyDbError(update)).toBe('append_only');
    const del = await database.db
      .deleteFrom('evidence')
      .where('id', '=', id)
      .execute()
      .catch((e: unknown) => e);
    expect(classifyDbError(del)).toBe('append_only');
    const raw = await database
      .rawQuery('UPDATE evidence SET digest = ? WHERE id = ?', ['e'.repeat(64), id])
      .catch((e: unknown) => e);
    expect(classifyDbError(raw)).toBe('append_only');
    const row = await database.db
      .selectFrom('evidence')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.kind).toBe('photo');
    expect(row.digest).toBe('d'.repeat(64));
    await database.close();
  });

  it('several processes starting at once on a fresh database: exactly one applies each migration', async () => {
    const rounds = engine === 'sqlite' ? 12 : 5;
    const processes = 4;
    const versions = loadMigrations(engine).map((m) => m.version);
    for (let round = 0; round < rounds; round++) {
      const url = await freshDatabaseUrl(engine);
      const startAt = Date.now() + 400;
      const results = await Promise.all(
        Array.from({ length: processes }, () =>
          runNode([CHILD], { API_DB_URL: url, START_AT: String(startAt) }),
        ),
      );
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const applied = results.flatMap((r) => (JSON.parse(r.stdout) as { applied: number[] }).applied);
      expect(applied.sort((a, b) => a - b)).toEqual(versions);
      const database = createDatabase(targetOf(url));
      const status = await migrationStatus(database);
      expect(status.pending).toEqual([]);
      await database.close();
    }
  }, 120_000);
});
