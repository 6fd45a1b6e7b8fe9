import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
} from '@fieldproof/db';
import {
  copyOfMigrations,
  createEmptyTestDatabase,
  freshDatabaseUrl,
  targetOf,
  testEngines,
} from '../../../test/support/databases.js';
import { insertEvidenceRow } from '../../../test/support/evidence-rows.js';
import { runNode } from '../../../test/support/processes.js';

const CHILD = fileURLToPath(new URL('../../../test/support/migrate-child.mjs', import.meta.url));

/** A copy of the real migrations folder with CRLF line ends, as a Windows checkout with autocrlf writes it. */
function crlfCopyOfMigrations(): string {
  const dir = copyOfMigrations();
  for (const f of fs.readdirSync(dir)) {
    const file = path.join(dir, f);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/\n/g, '\r\n'));
  }
  return dir;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

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

  it('checksums of LF files are what databases in the field recorded: the SHA-256 of the file bytes', () => {
    // Recorded by every database migrated before line endings were normalised; they must never change.
    const recorded: Record<string, string> = {
      '0001_init.sql': '35562cc74949447ca51d679b196881d947ed504438d0dc429a7b453b59670b9a',
      '0002_evidence_append_only.postgres.sql':
        '83115bf31c7690d20e7bae7e676cab4a4a6af3c942567ed675a3e3128e5f064b',
      '0002_evidence_append_only.sqlite.sql':
        '58b519e16ffb0dd8cc4528196587503286bbe5ab1c13994f2085fc879710027b',
      '0003_anchor_jobs_tree_size.sql': '27425276dfdcea99c1147aa2ac6fdd5670fdeb4fa1aefd7fa8e635646bd61e1b',
    };
    const loaded = [...loadMigrations('sqlite'), ...loadMigrations('postgres')];
    for (const [file, checksum] of Object.entries(recorded)) {
      expect(loaded.find((m) => m.file === file)?.checksum, file).toBe(checksum);
    }
    for (const m of loaded) {
      expect(m.checksum, m.file).toBe(sha256(fs.readFileSync(path.join(DEFAULT_MIGRATIONS_DIR, m.file))));
    }
  });

  it('a CRLF checkout loads the same SQL text and checksums as the LF files', () => {
    const crlf = crlfCopyOfMigrations();
    for (const engine of ['sqlite', 'postgres'] as const) {
      const fromCrlf = loadMigrations(engine, crlf);
      const fromLf = loadMigrations(engine);
      expect(fromCrlf.map((m) => [m.file, m.checksum, m.sql])).toEqual(
        fromLf.map((m) => [m.file, m.checksum, m.sql]),
      );
    }
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
    const database = await createEmptyTestDatabase(engine);
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
    const database = await createEmptyTestDatabase(engine);
    await migrate(database, { dir });
    fs.appendFileSync(path.join(dir, '0001_init.sql'), '\n-- a harmless-looking edit\n');
    await expect(migrate(database, { dir })).rejects.toThrow(MigrationChecksumError);
    await expect(migrate(database, { dir })).rejects.toThrow(/migration 1 \(init\) was edited/);
    await expect(migrationStatus(database, { dir })).rejects.toThrow(MigrationChecksumError);
    await database.close();
  });

  it('a CRLF checkout validates and migrates a database created from the LF files, and the reverse', async () => {
    const crlf = crlfCopyOfMigrations();
    const fromLf = await createEmptyTestDatabase(engine);
    await migrate(fromLf);
    expect((await migrationStatus(fromLf, { dir: crlf })).pending).toEqual([]);
    expect(await migrate(fromLf, { dir: crlf })).toEqual([]);
    await fromLf.close();

    const fromCrlf = await createEmptyTestDatabase(engine);
    await migrate(fromCrlf, { dir: crlf });
    const status = await migrationStatus(fromCrlf);
    expect(status.pending).toEqual([]);
    expect(status.applied.map((a) => a.checksum)).toEqual(loadMigrations(engine).map((m) => m.checksum));
    await fromCrlf.close();
  });

  it('accepts a database that recorded the checksums of CRLF files (a CRLF checkout, before normalising)', async () => {
    const crlf = crlfCopyOfMigrations();
    const database = await createEmptyTestDatabase(engine);
    await migrate(database);
    // What the earlier migrator recorded when it ran from a CRLF checkout: the SHA-256 of the CRLF bytes.
    for (const m of loadMigrations(engine, crlf)) {
      await database.rawQuery('UPDATE schema_migrations SET checksum = ? WHERE version = ?', [
        sha256(fs.readFileSync(path.join(crlf, m.file))),
        m.version,
      ]);
    }
    expect((await migrationStatus(database)).pending).toEqual([]);
    expect((await migrationStatus(database, { dir: crlf })).pending).toEqual([]);
    expect(await migrate(database)).toEqual([]);
    await database.close();
  });

  it('still refuses an edited migration in a CRLF checkout', async () => {
    const crlf = crlfCopyOfMigrations();
    const database = await createEmptyTestDatabase(engine);
    await migrate(database);
    fs.appendFileSync(path.join(crlf, '0001_init.sql'), '-- an edit\r\n');
    await expect(migrationStatus(database, { dir: crlf })).rejects.toThrow(MigrationChecksumError);
    await database.close();
  });

  it('refuses a database newer than the code, naming the version', async () => {
    const dir = copyOfMigrations();
    fs.writeFileSync(
      path.join(dir, '0900_from_the_future.sql'),
      'CREATE TABLE future_thing (id TEXT PRIMARY KEY);\n',
    );
    const database = await createEmptyTestDatabase(engine);
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
    const database = await createEmptyTestDatabase(engine);
    await expect(migrate(database, { dir })).rejects.toThrow();
    const status = await migrationStatus(database, { dir });
    expect(status.pending.map((m) => m.version)).toEqual([901]);
    expect(await database.tableExists('half_done')).toBe(false);
    await database.close();
  });

  it('evidence is append-only in the database itself', async () => {
    const database = await createEmptyTestDatabase(engine);
    await migrate(database);
    const { id } = await insertEvidenceRow(database.db, { digest: 'd'.repeat(64), kind: 'photo' });
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
