import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { FIELDPROOF_BIN, spawnApi } from './support/api-process.js';
import type { ApiProcess } from './support/api-process.js';
import { tempDir } from './support/databases.js';
import { freePort } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { waitFor } from './support/wait-for.js';

/**
 * A full disk, for real: the built api and keeper run with their database and data folder on a small
 * tmpfs, which a filler file then fills. Writes must answer 507 FP_STORAGE_FULL (JSON and raw uploads),
 * the api's /readyz must say so, the keeper must log the real cause (SQLITE_FULL), and once the filler
 * is gone both carry on: new writes succeed, nothing acknowledged is lost, everything gets sequenced.
 * Needs root (mount); the tests run as root on CI.
 */
const isRoot = process.getuid?.() === 0;

interface Keeper {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

function spawnKeeper(env: Record<string, string>): Keeper {
  const child = spawn(process.execPath, [FIELDPROOF_BIN, 'keeper'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return waitFor(what, probe, { timeoutMs, intervalMs: 50 });
}

/** Writes `file` until the filesystem refuses (ENOSPC): nothing is left, to the last page. */
function fill(file: string): number {
  const fd = fs.openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1024 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0xa5);
      for (;;) {
        try {
          written += fs.writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

interface LogLine {
  msg?: string;
  task?: string;
  err?: { code?: string; message?: string };
}

const lines = (text: string): LogLine[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

describe.skipIf(!isRoot)('a full disk (api and keeper processes on a small tmpfs)', () => {
  const mount = tempDir('fieldproof-full-');
  let mounted = false;
  let api: ApiProcess | undefined;
  let keeper: Keeper | undefined;
  afterAll(async () => {
    api?.child.kill('SIGKILL');
    keeper?.child.kill('SIGKILL');
    await Promise.all([api?.exited, keeper?.exited]);
    if (mounted) execFileSync('umount', [mount]);
    fs.rmSync(mount, { recursive: true, force: true });
  });

  it('answers 507 FP_STORAGE_FULL, fails /readyz, logs SQLITE_FULL, and carries on once space is back', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mount]);
    mounted = true;
    const dbFile = path.join(mount, 'fieldproof.sqlite3');
    const env = {
      API_DB_URL: `sqlite://${dbFile}`,
      KEEPER_DB_URL: '',
      FIELDPROOF_DATA_DIR: path.join(mount, 'data'),
      FIELDPROOF_DEVICE_KEY: '',
      FIELDPROOF_DEVICE_KEY_FILE: '',
      FIELDPROOF_LOG_ORIGIN: '',
      KEEPER_PROVIDER: 'stub',
      KEEPER_CHAINS: '',
      KEEPER_HTTP_PORT: String(await freePort()),
      KEEPER_POLL_MS: '50',
      KEEPER_BACKOFF_BASE_MS: '50',
      KEEPER_BACKOFF_MAX_MS: '200',
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
      API_RATE_LIMIT_PER_MINUTE: '1000000',
      LOG_LEVEL: 'info',
    };
    const created = await runNode(
      [FIELDPROOF_BIN, 'keys', 'create', '--scopes', 'read,write', '--json'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const authorization = `Bearer ${(JSON.parse(created.stdout) as { key: string }).key}`;
    api = await spawnApi(env);
    keeper = spawnKeeper(env);
    const base = api.address;

    const acked = new Map<string, Buffer | undefined>(); // id → raw bytes (undefined for JSON)
    let n = 0;
    const postJson = () =>
      fetch(`${base}/v1/evidence`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({
          payload: { n: n++, r: randomBytes(8).toString('hex') },
          kind: 'k',
          occurredAt: 1,
        }),
      });
    const postBytes = (bytes: Buffer) =>
      fetch(`${base}/v1/evidence?kind=raw&occurredAt=1`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
    async function write(count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        const bytes = i % 3 === 2 ? randomBytes(64 * 1024) : undefined;
        const res = bytes === undefined ? await postJson() : await postBytes(bytes);
        expect(res.status).toBe(201);
        acked.set(((await res.json()) as { id: string }).id, bytes);
      }
    }
    const leafIndexOf = async (id: string) => {
      const res = await fetch(`${base}/v1/evidence/${id}`, { headers: { authorization } });
      return ((await res.json()) as { leafIndex: number | null }).leafIndex;
    };
    const allSequenced = () =>
      until('every acknowledged record sequenced', async () => {
        for (const id of acked.keys()) if ((await leafIndexOf(id)) === null) return undefined;
        return true;
      });

    // 1. Both running normally.
    await write(6);
    await allSequenced();

    // 2. The keeper is stopped while more writes are acknowledged: they wait in the queue.
    keeper.child.kill('SIGTERM');
    expect(await keeper.exited).toBe(0);
    await write(3);
    // Empty the WAL (its file would otherwise be reused in place), then fill the disk to the last page.
    const db = new BetterSqlite3(dbFile);
    try {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      expect(result?.busy).toBe(0);
    } finally {
      db.close();
    }
    const filler = path.join(mount, 'filler');
    expect(fill(filler)).toBeGreaterThan(0);

    // 3. Full: writes answer 507 FP_STORAGE_FULL, JSON and raw alike; /readyz says why.
    const json = await postJson();
    expect(json.status).toBe(507);
    expect(await json.json()).toMatchObject({
      statusCode: 507,
      code: 'FP_STORAGE_FULL',
      error: 'Insufficient Storage',
    });
    const raw = await postBytes(randomBytes(64 * 1024));
    expect(raw.status).toBe(507);
    expect(await raw.json()).toMatchObject({ code: 'FP_STORAGE_FULL' });
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(507);
    expect(await notReady.json()).toMatchObject({
      code: 'FP_STORAGE_FULL',
      message: expect.stringMatching(/storage is full/) as unknown,
    });
    // The keeper, restarted, cannot sequence the queued records and logs the real cause.
    keeper = spawnKeeper(env);
    const failed = await until('the keeper logging its failed round', async () =>
      lines(keeper!.output()).find((l) => l.msg === 'task round failed' && l.task === 'sequencer'),
    );
    expect(failed.err).toMatchObject({ code: 'SQLITE_FULL', message: 'database or disk is full' });
    expect(keeper.output()).not.toContain('cannot rollback');

    // 4. Space is back: readiness returns, writes succeed, the keeper sequences everything.
    fs.rmSync(filler);
    await until('/readyz to pass', async () =>
      (await fetch(`${base}/readyz`)).status === 200 ? true : undefined,
    );
    await write(3);
    await allSequenced();
    expect(lines(keeper.output()).some((l) => l.msg === 'task recovered' && l.task === 'sequencer')).toBe(
      true,
    );
    // Nothing acknowledged is lost; the log has no gap.
    const indices: number[] = [];
    for (const [id, bytes] of acked) {
      indices.push((await leafIndexOf(id))!);
      if (bytes !== undefined) {
        const res = await fetch(`${base}/v1/evidence/${id}/content`, { headers: { authorization } });
        const got = Buffer.from(await res.arrayBuffer());
        expect(createHash('sha256').update(got).digest('hex')).toBe(
          createHash('sha256').update(bytes).digest('hex'),
        );
      }
    }
    expect(indices.sort((a, b) => a - b)).toEqual(Array.from({ length: acked.size }, (_, i) => i));

    api.child.kill('SIGTERM');
    keeper.child.kill('SIGTERM');
    expect((await api.exited).code).toBe(0);
    expect(await keeper.exited).toBe(0);
    api = undefined;
    keeper = undefined;
    const check = new BetterSqlite3(dbFile, { readonly: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      check.close();
    }
  }, 120_000);
});
