import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { tempDir } from './support/databases.js';
import { runNode } from './support/processes.js';
import { waitFor } from './support/wait-for.js';

/** The settings that pick files, unset: what a fresh clone runs with. */
const DEFAULTS = { API_DB_URL: undefined, KEEPER_DB_URL: undefined, FIELDPROOF_DATA_DIR: undefined };
const DB = 'blockchain_outbox.sqlite3';

describe('the default data folder', () => {
  it('`fieldproof start` on the defaults creates nothing in the working folder but the database files and fieldproof-data/', async () => {
    const cwd = tempDir('fieldproof-clone-');
    const env = {
      ...DEFAULTS,
      LOG_LEVEL: 'info',
      API_PORT: '0',
      KEEPER_HTTP_PORT: '0',
      KEEPER_POLL_MS: '100',
      API_MAX_EVENT_LOOP_DELAY_MS: '0', // not a test of load shedding: a busy machine would answer 503
    };
    const key = await runNode([FIELDPROOF_BIN, 'keys', 'create', '--scopes', 'write', '--json'], env, {
      cwd,
    });
    expect(key.code, key.stderr).toBe(0);
    const child = spawn(process.execPath, [FIELDPROOF_BIN, 'start'], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const logged = (re: RegExp) =>
        waitFor(`${re} in the output`, () => re.exec(out) ?? undefined, {
          timeoutMs: 40_000,
          explain: () => out,
        });
      const address = (await logged(/"address":"(http:\/\/[^"]+)","msg":"api listening"/))[1]!;
      await logged(/"msg":"device key created"/);
      const res = await fetch(`${address}/v1/evidence?kind=photo&occurredAt=1`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${(JSON.parse(key.stdout) as { key: string }).key}`,
          'content-type': 'application/octet-stream',
        },
        body: Buffer.from('raw bytes of a photo'),
      });
      expect(res.status).toBe(201);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const created = fs.readdirSync(cwd).sort();
    expect(created).toContain(DB);
    expect(created).toContain('fieldproof-data');
    expect(created.filter((n) => ![DB, `${DB}-wal`, `${DB}-shm`, 'fieldproof-data'].includes(n))).toEqual([]);
    expect(fs.readdirSync(path.join(cwd, 'fieldproof-data')).sort()).toEqual(['content', 'device.key']);
    expect(fs.statSync(path.join(cwd, 'fieldproof-data')).mode & 0o777).toBe(0o700);
  }, 90_000);

  it('.gitignore covers the database files and the data folder', () => {
    const repo = path.resolve(import.meta.dirname, '..');
    const paths = [
      DB,
      `${DB}-wal`,
      `${DB}-shm`,
      'fieldproof-data/device.key',
      `${DB}.replaced-2026-01-01T00-00-00-000Z`,
    ];
    const r = spawnSync('git', ['check-ignore', '--no-index', '--verbose', ...paths], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(r.stdout.trim().split('\n')).toHaveLength(paths.length);
  });

  it('an upgraded unit with device.key, content/ and backups/ beside its database keeps its identity and content', async () => {
    const cwd = tempDir('fieldproof-upgrade-');
    // The layout the old default made: the data folder was the database's own folder.
    const old = await runNode(
      [FIELDPROOF_BIN, 'device', '--json'],
      { ...DEFAULTS, FIELDPROOF_DATA_DIR: cwd },
      { cwd },
    );
    expect(old.code, old.stderr).toBe(0);
    const { verifierKey } = JSON.parse(old.stdout) as { verifierKey: string };
    const keyBytes = fs.readFileSync(path.join(cwd, 'device.key'));
    const digest = 'ab'.repeat(32);
    fs.mkdirSync(path.join(cwd, 'content', 'ab', 'ab'), { recursive: true });
    fs.writeFileSync(path.join(cwd, 'content', 'ab', 'ab', digest), 'stored bytes');
    fs.mkdirSync(path.join(cwd, 'backups'));
    fs.writeFileSync(path.join(cwd, 'backups', 'fieldproof-20250101T000000.000Z.sqlite3'), 'old backup');

    // After the upgrade, on the defaults.
    const now = await runNode([FIELDPROOF_BIN, 'device', '--json'], DEFAULTS, { cwd });
    expect(now.code, now.stderr).toBe(0);
    expect((JSON.parse(now.stdout) as { verifierKey: string }).verifierKey).toBe(verifierKey); // same identity
    expect(now.stderr).toMatch(
      new RegExp(
        `moved ${cwd}/device.key \\(old default data folder\\) to ${cwd}/fieldproof-data/device.key`,
      ),
    );
    expect(now.stderr).toMatch(/moved .*\/content \(old default data folder\)/);
    const data = path.join(cwd, 'fieldproof-data');
    expect(fs.readFileSync(path.join(data, 'device.key'))).toEqual(keyBytes);
    expect(fs.statSync(path.join(data, 'device.key')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(data, 'content', 'ab', 'ab', digest), 'utf8')).toBe('stored bytes');
    expect(fs.readdirSync(path.join(data, 'backups'))).toEqual(['fieldproof-20250101T000000.000Z.sqlite3']);
    expect(fs.readdirSync(cwd).filter((n) => !n.startsWith(DB))).toEqual(['fieldproof-data']);

    // Once moved, later starts have nothing to say.
    const again = await runNode([FIELDPROOF_BIN, 'device'], DEFAULTS, { cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
  }, 60_000);
});
