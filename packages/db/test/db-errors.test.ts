import fs from 'node:fs';
import pg from 'pg';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  SQLITE_EXTENDED_CODES,
  classifyDbError,
  isStorageFull,
  isUniqueViolation,
  newId,
} from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { createTestDatabase, testEngines } from '../../../test/support/databases.js';
import { evidenceRow } from '../../../test/support/evidence-rows.js';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

async function rejected(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('SQLite surfaces extended result codes from the driver', () => {
  it('UNIQUE 2067, PRIMARY KEY 1555, FOREIGN KEY 787, NOT NULL 1299, CHECK 275', async () => {
    const database = await createTestDatabase('sqlite');
    const db = database.sqlite!;
    db.exec(`CREATE TABLE p (id INTEGER PRIMARY KEY, u TEXT UNIQUE, n TEXT NOT NULL, c INTEGER CHECK (c > 0));
             CREATE TABLE ch (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id));
             INSERT INTO p VALUES (1, 'a', 'n', 1);`);
    const cases: [string, string, number, string][] = [
      ["INSERT INTO p VALUES (2, 'a', 'n', 1)", 'SQLITE_CONSTRAINT_UNIQUE', 2067, 'unique'],
      ["INSERT INTO p VALUES (1, 'b', 'n', 1)", 'SQLITE_CONSTRAINT_PRIMARYKEY', 1555, 'primary_key'],
      ['INSERT INTO ch VALUES (1, 99)', 'SQLITE_CONSTRAINT_FOREIGNKEY', 787, 'foreign_key'],
      ["INSERT INTO p VALUES (3, 'c', NULL, 1)", 'SQLITE_CONSTRAINT_NOTNULL', 1299, 'not_null'],
      ["INSERT INTO p VALUES (4, 'd', 'n', 0)", 'SQLITE_CONSTRAINT_CHECK', 275, 'check'],
    ];
    for (const [statement, code, number, klass] of cases) {
      const err = caught(() => db.prepare(statement).run()) as { code: string };
      expect(err.code, statement).toBe(code);
      expect(SQLITE_EXTENDED_CODES[code as keyof typeof SQLITE_EXTENDED_CODES]).toBe(number);
      expect(classifyDbError(err)).toBe(klass);
    }
    await database.close();
  });
});

describe.each(testEngines())('database errors are classified by code (%s)', (engine) => {
  let database: Database;
  it('maps each schema constraint to its class through kysely', async () => {
    database = await createTestDatabase(engine);
    const { db } = database;
    const evidence = (id: string, digest: string) => evidenceRow({ id, digest, kind: 'photo' });
    const id = newId();
    await db
      .insertInto('evidence')
      .values(evidence(id, 'a'.repeat(64)))
      .execute();

    const dupDigest = await rejected(
      db
        .insertInto('evidence')
        .values(evidence(newId(), 'a'.repeat(64)))
        .execute(),
    );
    expect(classifyDbError(dupDigest)).toBe('unique');
    const dupId = await rejected(
      db
        .insertInto('evidence')
        .values(evidence(id, 'b'.repeat(64)))
        .execute(),
    );
    expect(isUniqueViolation(dupId)).toBe(true);
    expect(classifyDbError(dupId)).toBe(engine === 'sqlite' ? 'primary_key' : 'unique');
    const badFk = await rejected(
      db
        .insertInto('log_leaves')
        .values({ leaf_index: 0, evidence_id: newId(), leaf_hash: 'a'.repeat(64), sequenced_at: 1 })
        .execute(),
    );
    expect(classifyDbError(badFk)).toBe('foreign_key');
    const notNull = await rejected(
      db
        .insertInto('evidence')
        .values({ ...evidence(newId(), 'c'.repeat(64)), kind: null as unknown as string })
        .execute(),
    );
    expect(classifyDbError(notNull)).toBe('not_null');
    const check = await rejected(db.insertInto('evidence').values(evidence(newId(), 'short')).execute());
    expect(classifyDbError(check)).toBe('check');
    await database.close();
  });

  it('classifies retryable codes and ignores message text', () => {
    expect(classifyDbError({ code: 'SQLITE_BUSY', message: 'unique' })).toBe('retryable');
    expect(classifyDbError({ code: 'SQLITE_BUSY_SNAPSHOT' })).toBe('retryable');
    expect(classifyDbError({ code: '40001' })).toBe('retryable');
    expect(classifyDbError({ code: '40P01' })).toBe('retryable');
    expect(classifyDbError(new Error('UNIQUE constraint failed'))).toBe('other');
    expect(classifyDbError({ code: 'SQLITE_CONSTRAINT' })).toBe('other');
    expect(classifyDbError(null)).toBe('other');
  });
});

describe('a full disk', () => {
  it('SQLITE_FULL reaches the caller of a transaction, not the failed ROLLBACK after it', async () => {
    const database = await createTestDatabase('sqlite');
    const handle = database.sqlite!;
    await sql`CREATE TABLE filler (b BLOB)`.execute(database.db);
    // A real SQLITE_FULL without filling a disk: the file may not grow past its current size. SQLite then
    // rolls the whole transaction back itself, as it does when the disk is full.
    const pages = Number(handle.pragma('page_count', { simple: true }));
    handle.pragma(`max_page_count = ${pages}`);
    const err = await rejected(
      database.db.transaction().execute(async (trx) => {
        await sql`INSERT INTO filler VALUES (randomblob(1000000))`.execute(trx);
      }),
    );
    expect(err).toMatchObject({ code: 'SQLITE_FULL', message: 'database or disk is full' });
    expect(SQLITE_EXTENDED_CODES.SQLITE_FULL).toBe(13);
    expect(classifyDbError(err)).toBe('storage_full');
    expect(isStorageFull(err)).toBe(true);
    expect(handle.inTransaction).toBe(false);
    // The connection carries on once there is room.
    handle.pragma('max_page_count = 1073741823');
    await database.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO filler VALUES (randomblob(1000))`.execute(trx);
    });
    await database.close();
  });

  it("PostgreSQL's disk_full (SQLSTATE 53100) and the filesystem's ENOSPC are storage full", () => {
    // PostgreSQL running out of disk cannot be produced here; this is the error object node-postgres
    // builds from the server's ErrorResponse for it.
    const full = new pg.DatabaseError(
      'could not extend file "base/16384/16397": No space left on device',
      120,
      'error',
    );
    Object.assign(full, { severity: 'ERROR', code: '53100' });
    expect(classifyDbError(full)).toBe('storage_full');
    expect(isStorageFull(full)).toBe(true);
    // A real ENOSPC: /dev/full refuses every write with it.
    const enospc = caught(() => fs.writeFileSync('/dev/full', 'x'));
    expect(enospc).toMatchObject({ code: 'ENOSPC' });
    expect(isStorageFull(enospc)).toBe(true);
    expect(classifyDbError(enospc)).toBe('other');
    expect(isStorageFull({ code: 'SQLITE_BUSY' })).toBe(false);
    expect(isStorageFull(new Error('database or disk is full'))).toBe(false); // by code, not text
  });
});
