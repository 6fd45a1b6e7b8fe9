import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/databases.js';
import { runNode } from './support/processes.js';

const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));
const WRITER = fileURLToPath(new URL('./support/writer-child.mjs', import.meta.url));

/** A child process committing rows; `committed` holds every id whose commit has returned. */
function startWriter(url: string) {
  const child = spawn(process.execPath, [WRITER], {
    env: { ...process.env, API_DB_URL: url },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const committed: string[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    committed.push(...lines);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    committed,
    stderrText: () => stderr,
    async waitFor(n: number) {
      const deadline = Date.now() + 20_000;
      while (committed.length < n) {
        if (Date.now() > deadline) throw new Error(`writer committed only ${committed.length}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function ids(file: string): Set<string> {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return new Set((db.prepare('SELECT id FROM evidence').all() as { id: string }[]).map((r) => r.id));
  } finally {
    db.close();
  }
}

/** The database snapshot inside a backup archive, written out as a file. */
async function snapshotOf(archive: string): Promise<string> {
  const extract = tar.extract();
  fs.createReadStream(archive).pipe(extract);
  const file = `${archive}.sqlite3`;
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    if (entry.header.name === 'database.sqlite3') fs.writeFileSync(file, Buffer.concat(chunks));
  }
  return file;
}

describe('fieldproof backup and restore', () => {
  it('a backup taken while a writer runs holds every row committed before it started, and restores', async () => {
    const dir = tempDir();
    const dbFile = path.join(dir, 'live.sqlite3');
    const url = `sqlite://${dbFile}`;
    const writer = startWriter(url);
    await writer.waitFor(300);
    const before = [...writer.committed]; // every id here had committed before the backup started
    const out = path.join(dir, 'fieldproof-data', 'backups', 'copy.tar');
    const backup = await runNode([BIN, 'backup', '--out', out], { API_DB_URL: url });
    const afterBackup = writer.committed.length;
    await writer.waitFor(afterBackup + 50); // the writer was never blocked for long
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).toMatch(/backup: database/);
    expect(backup.stderr).toMatch(/backup: done/);
    expect(backup.stdout).toMatch(/integrity_check ok/);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);

    const snapshot = await snapshotOf(out);
    const copied = ids(snapshot);
    const missing = before.filter((id) => !copied.has(id));
    expect(missing).toEqual([]);
    const check = new BetterSqlite3(snapshot, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();

    // restore refuses while the writer still has the database open, and changes nothing
    const refused = await runNode([BIN, 'restore', out], { API_DB_URL: url });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/open in another process: stop the api and the keeper first/);
    expect(fs.existsSync(dbFile)).toBe(true);

    expect(await writer.stop()).toBe(0);
    const liveRows = ids(dbFile).size;
    expect(liveRows).toBeGreaterThan(copied.size);

    const restored = await runNode([BIN, 'restore', out], { API_DB_URL: url });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(new RegExp(`${copied.size} evidence records`));
    // The replaced database is kept whole in the data folder, not beside the database.
    const dataDir = path.join(dir, 'fieldproof-data');
    const kept = fs.readdirSync(dataDir).find((f) => f.startsWith('replaced-'));
    expect(kept).toBeDefined();
    expect(restored.stdout).toMatch(new RegExp(`kept what was replaced in ${dataDir}/replaced-`));
    expect(ids(path.join(dataDir, kept!, 'live.sqlite3')).size).toBe(liveRows);
    expect(fs.readdirSync(dir).filter((f) => f.includes('replaced'))).toEqual([]);
    expect(ids(dbFile)).toEqual(copied);
    const live = new BetterSqlite3(dbFile);
    expect(live.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(live.pragma('integrity_check', { simple: true })).toBe('ok');
    live.close();
    expect(fs.statSync(dbFile).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('restore refuses what is not a sound fieldproof backup, leaving the database alone', async () => {
    const dir = tempDir();
    const dbFile = path.join(dir, 'live.sqlite3');
    const url = `sqlite://${dbFile}`;
    expect((await runNode([BIN, 'migrate'], { API_DB_URL: url })).code).toBe(0);
    const garbage = path.join(dir, 'garbage.sqlite3');
    fs.writeFileSync(garbage, 'this is not a database'.repeat(100));
    const other = path.join(dir, 'other.sqlite3');
    const o = new BetterSqlite3(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    const newer = path.join(dir, 'newer.sqlite3');
    fs.copyFileSync(dbFile, newer);
    const n = new BetterSqlite3(newer);
    n.prepare('INSERT INTO schema_migrations VALUES (999, ?, ?, 0)').run('from_the_future', 'f'.repeat(64));
    n.close();
    const cases: [string, RegExp][] = [
      [path.join(dir, 'missing.sqlite3'), /no such file/],
      [garbage, /refusing this archive: (it is empty or not a tar archive|not a readable)/],
      [other, /not a fieldproof database/],
      [newer, /migration 999 \(from_the_future\), which this code does not know/],
    ];
    for (const [file, message] of cases) {
      const r = await runNode([BIN, 'restore', file], { API_DB_URL: url });
      expect(r.code, file).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect((fs.readdirSync(dir, { recursive: true }) as string[]).some((f) => f.includes('replaced-'))).toBe(
      false,
    );
  }, 30_000);
});
