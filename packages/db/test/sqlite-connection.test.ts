import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, openSqlite, readPragmas, sqlitePragmasOf } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { targetOf, tempDir } from '../../../test/support/databases.js';

const open: Database[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
});

describe('SQLite connection factory', () => {
  it('creates missing folders 0700 and the file 0600, and verifies every PRAGMA', async () => {
    const root = tempDir();
    const file = path.join(root, 'a', 'b', 'fp.sqlite3');
    const database = createDatabase(targetOf(`sqlite://${file}`));
    open.push(database);
    expect(fs.statSync(path.join(root, 'a')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(root, 'a', 'b')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(sqlitePragmasOf(database)).toEqual({
      journalMode: 'wal',
      foreignKeys: 1,
      synchronous: 2,
      busyTimeout: 15000,
    });
  });

  it('leaves an existing folder mode alone', () => {
    const root = tempDir();
    fs.chmodSync(root, 0o755);
    const db = openSqlite(path.join(root, 'x.sqlite3'));
    db.close();
    expect(fs.statSync(root).mode & 0o777).toBe(0o755);
  });

  it('creates a new database with 1 KiB pages (an existing one keeps its page size); the WAL grows to 16 MiB before a checkpoint', () => {
    /** Creates a table through `create`, then reopens the file the fieldproof way and reads its settings. */
    const settingsAfter = (create: (file: string) => BetterSqlite3.Database) => {
      const file = path.join(tempDir(), 'p.sqlite3');
      const first = create(file);
      first.exec('CREATE TABLE t (x)');
      first.close();
      const db = openSqlite(file);
      const settings = [
        db.pragma('page_size', { simple: true }),
        db.pragma('wal_autocheckpoint', { simple: true }),
      ];
      db.close();
      return settings;
    };
    expect(settingsAfter((file) => openSqlite(file))).toEqual([1024, 16_384]);
    // A unit's database created before: 4 KiB pages (SQLite's default), left as they are.
    expect(settingsAfter((file) => new BetterSqlite3(file))).toEqual([4096, 4_096]);
  });

  it('honours an explicit synchronous choice and reads it back', () => {
    const db = openSqlite(path.join(tempDir(), 'n.sqlite3'), { busyTimeoutMs: 1234, synchronous: 'NORMAL' });
    expect(readPragmas(db)).toEqual({
      journalMode: 'wal',
      foreignKeys: 1,
      synchronous: 1,
      busyTimeout: 1234,
    });
    db.close();
  });

  it('kysely transactions take the write lock up front (BEGIN IMMEDIATE)', async () => {
    const file = path.join(tempDir(), 'imm.sqlite3');
    const a = createDatabase(targetOf(`sqlite://${file}`));
    open.push(a);
    await a.db.schema.createTable('t').addColumn('x', 'integer').execute();
    const other = openSqlite(file, { busyTimeoutMs: 50, synchronous: 'FULL' });
    let otherError: unknown;
    await a.db.transaction().execute(async (trx) => {
      // Only a read so far: a deferred BEGIN would hold no write lock yet.
      await trx
        .selectFrom('t' as never)
        .selectAll()
        .execute();
      try {
        other.prepare('INSERT INTO t (x) VALUES (1)').run();
      } catch (err) {
        otherError = err;
      }
    });
    other.close();
    expect((otherError as { code?: string }).code).toBe('SQLITE_BUSY');
  });
});
