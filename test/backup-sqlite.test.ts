import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BackupError, backupSqlite } from '@fieldproof/db';
import type { BackupProgress, Database } from '@fieldproof/db';
import { createTestDatabase, tempDir, testEngines } from './support/databases.js';
import { evidenceRows } from './support/evidence-rows.js';

const WRITER = fileURLToPath(new URL('./support/sqlite-writer-child.mjs', import.meta.url));

function pathOf(database: Database): string {
  if (database.target.engine !== 'sqlite') throw new Error('sqlite only');
  return database.target.path;
}

async function fill(database: Database, n: number): Promise<void> {
  const now = Date.now();
  await database.db.transaction().execute(async (trx) => {
    for (let i = 0; i < n; i += 500) {
      const rows = evidenceRows(Math.min(500, n - i), (k) => ({
        digest: (i + k).toString(16).padStart(64, '0'),
        occurred_at: now,
        received_at: now,
        metadata: JSON.stringify({ pad: 'p'.repeat(100) }),
      }));
      await trx.insertInto('evidence').values(rows).execute();
    }
  });
}

describe('backupSqlite', () => {
  it('copies every row committed before it started while another PROCESS keeps committing', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      await fill(database, 20_000);
      const writer = spawn(process.execPath, [WRITER], {
        env: { ...process.env, DB: pathOf(database) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let committed = 0;
      let buffered = '';
      writer.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) committed = Number(l);
      });
      try {
        while (committed < 200) await new Promise((r) => setTimeout(r, 5));
        const committedBefore = committed;
        const phases: BackupProgress['phase'][] = [];
        const out = path.join(tempDir(), 'nested', 'copy.sqlite3');
        const result = await backupSqlite(database, out, { onProgress: (p) => phases.push(p.phase) });
        const committedAfter = committed;

        expect(phases).toEqual(['copying', 'checking', 'syncing', 'done']);
        expect(result.file).toBe(out);
        expect(fs.statSync(out).mode & 0o777).toBe(0o600);
        expect(fs.statSync(path.dirname(out)).mode & 0o777).toBe(0o700);
        expect(fs.readdirSync(path.dirname(out))).toEqual(['copy.sqlite3']); // no temporary left behind
        expect(committedAfter).toBeGreaterThan(committedBefore); // the writer really ran meanwhile

        const copy = new BetterSqlite3(out, { readonly: true });
        try {
          expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
          const rows = copy
            .prepare("SELECT name FROM log_meta WHERE name LIKE 'row-%'")
            .pluck()
            .all() as string[];
          const numbers = new Set(rows.map((r) => Number(r.slice(4))));
          for (let n = 1; n <= committedBefore; n++) expect(numbers.has(n)).toBe(true);
          expect(copy.prepare('SELECT count(*) FROM evidence').pluck().get()).toBe(20_000);
        } finally {
          copy.close();
        }
      } finally {
        writer.kill('SIGKILL');
        await new Promise((r) => writer.once('close', r));
      }
    } finally {
      await database.close();
    }
  });

  it('refuses to overwrite unless asked, to copy onto itself, and leaves nothing behind on failure', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const dir = tempDir();
      const out = path.join(dir, 'b.sqlite3');
      await backupSqlite(database, out);
      await expect(backupSqlite(database, out)).rejects.toThrow(BackupError);
      await expect(backupSqlite(database, out, { overwrite: true })).resolves.toMatchObject({ file: out });
      await expect(backupSqlite(database, pathOf(database), { overwrite: true })).rejects.toThrow(
        /onto itself/,
      );
      // A source that is not a database: the copy fails and its temporary file is removed.
      const garbage = path.join(tempDir(), 'garbage.sqlite3');
      fs.writeFileSync(garbage, 'not a database, not at all'.repeat(100));
      const broken: Database = {
        ...database,
        target: { ...database.target, path: garbage } as Database['target'],
      };
      await expect(backupSqlite(broken, path.join(dir, 'c.sqlite3'))).rejects.toThrow(/not a database/);
      expect(fs.readdirSync(dir)).toEqual(['b.sqlite3']);
    } finally {
      await database.close();
    }
  });

  it.runIf(testEngines().includes('postgres'))('is refused on PostgreSQL (use pg_dump)', async () => {
    const database = await createTestDatabase('postgres');
    try {
      await expect(backupSqlite(database, path.join(tempDir(), 'x'))).rejects.toThrow(/pg_dump/);
    } finally {
      await database.close();
    }
  });
});
