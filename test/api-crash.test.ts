import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnApi, FIELDPROOF_BIN } from './support/api-process.js';
import type { ApiProcess } from './support/api-process.js';
import { tempDir } from './support/databases.js';
import { runNode } from './support/processes.js';

/**
 * Durability across kill -9: the built api (a real process, synchronous=FULL, group commit) takes a load
 * of concurrent writes from 127.0.0.1, is SIGKILLed in the middle of it, restarted, and every write that
 * got a 2xx must be there — evidence, its content, operational records — with the database passing
 * PRAGMA integrity_check.
 */
describe('api crash safety (SIGKILL under load)', () => {
  const dir = tempDir('fieldproof-crash-');
  const env = {
    API_DB_URL: `sqlite://${path.join(dir, 'fieldproof.sqlite3')}`,
    FIELDPROOF_DATA_DIR: path.join(dir, 'data'),
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    LOG_LEVEL: 'info',
  };
  let api: ApiProcess | undefined;
  afterAll(() => {
    api?.child.kill('SIGKILL');
  });

  it('keeps every acknowledged write', async () => {
    const created = await runNode(
      [FIELDPROOF_BIN, 'keys', 'create', '--scopes', 'read,write', '--json'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const authorization = `Bearer ${key}`;

    api = await spawnApi(env);
    const base = api.address;
    expect(new URL(base).hostname).toBe('127.0.0.1');

    type Ack = { kind: 'evidence' | 'bytes' | 'countermeasure'; id: string; digest?: string; bytes?: Buffer };
    const acked: Ack[] = [];
    let sent = 0;
    let killed = false;
    const MAX_REQUESTS = 4000;

    async function one(i: number): Promise<void> {
      const variant = i % 10;
      if (variant === 9) {
        const bytes = randomBytes(2048 + (i % 512));
        const res = await fetch(`${base}/v1/evidence?kind=capture&occurredAt=${i}`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/octet-stream' },
          body: bytes,
        });
        if (res.status === 201)
          acked.push({ kind: 'bytes', id: ((await res.json()) as { id: string }).id, bytes });
        return;
      }
      if (variant === 8) {
        const res = await fetch(`${base}/v1/countermeasures`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ operationId: `op-${i}`, countermeasureType: 'jammer', deployedAt: i }),
        });
        if (res.status === 201)
          acked.push({ kind: 'countermeasure', id: ((await res.json()) as { id: string }).id });
        return;
      }
      const body =
        variant % 2 === 0
          ? { digest: randomBytes(32).toString('hex'), kind: 'load', occurredAt: i }
          : { payload: { i, r: randomBytes(8).toString('hex') }, kind: 'load', occurredAt: i };
      const res = await fetch(`${base}/v1/evidence`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status === 201) {
        const { id, digest } = (await res.json()) as { id: string; digest: string };
        acked.push({ kind: 'evidence', id, digest });
      }
    }

    async function worker(): Promise<void> {
      while (!killed && sent < MAX_REQUESTS) {
        const i = sent++;
        // A refused or reset connection after the kill is an unacknowledged write: not promised.
        await one(i).catch(() => undefined);
      }
    }

    const workers = Array.from({ length: 32 }, () => worker());
    // Kill once a good number of writes were acknowledged, while the rest are in flight.
    const started = Date.now();
    while (acked.length < 400 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 5));
    api.child.kill('SIGKILL');
    killed = true;
    const exit = await api.exited;
    expect(exit.signal).toBe('SIGKILL');
    await Promise.all(workers);
    expect(acked.length).toBeGreaterThanOrEqual(400);
    console.log(`acknowledged ${acked.length} of ${sent} sent before SIGKILL`);
    expect(sent).toBeGreaterThan(acked.length); // some were in flight at the kill

    // Restart on the same database and data folder: every acknowledged write is there.
    api = await spawnApi(env);
    const restarted = api.address;
    const read = async (url: string) => fetch(`${restarted}${url}`, { headers: { authorization } });
    for (const a of acked) {
      if (a.kind === 'countermeasure') {
        expect((await read(`/v1/countermeasures/${a.id}`)).status).toBe(200);
        continue;
      }
      const res = await read(`/v1/evidence/${a.id}`);
      expect(res.status, a.id).toBe(200);
      const got = (await res.json()) as { digest: string };
      if (a.kind === 'evidence') expect(got.digest).toBe(a.digest);
      if (a.kind === 'bytes') {
        expect(got.digest).toBe(createHash('sha256').update(a.bytes!).digest('hex'));
        const content = Buffer.from(await (await read(`/v1/evidence/${a.id}/content`)).arrayBuffer());
        expect(content.equals(a.bytes!)).toBe(true);
      }
    }
    api.child.kill('SIGTERM');
    expect((await api.exited).code).toBe(0);
    api = undefined;

    const db = new BetterSqlite3(path.join(dir, 'fieldproof.sqlite3'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      // SQLite writes no sequence_queue rows since migration 0007: every row waits after the watermark.
      const counts = db
        .prepare('SELECT (SELECT count(*) FROM evidence) AS e, (SELECT count(*) FROM sequence_queue) AS q')
        .get() as { e: number; q: number };
      expect(counts.q).toBe(0);
      expect(counts.e).toBeGreaterThanOrEqual(acked.length);
    } finally {
      db.close();
    }
  }, 90_000);
});
