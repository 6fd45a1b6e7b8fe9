import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startApi } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
import { createKey, randomDigest, testApiEnv } from '../../../test/support/api.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { createTestDatabase, tempDir, testEngines } from '../../../test/support/databases.js';

describe.each(testEngines())('graceful shutdown (%s)', (engine) => {
  it('answers the requests in flight, commits their writes, then stops listening', async () => {
    const database = await createTestDatabase(engine);
    const { config } = loadConfig({
      API_DB_URL: database.target.url,
      FIELDPROOF_DATA_DIR: tempDir(),
      ...testApiEnv(),
      API_PORT: '0',
      API_RATE_LIMIT_PER_MINUTE: '100000',
    });
    const api = await startApi(config, { database, logger: pino({ level: 'silent' }) });
    const { authorization } = await createKey(database, ['write']);
    const url = new URL(`${api.address}/v1/evidence`);
    // Requests truly in flight: the server has parsed their headers (it answered 100 Continue) and is
    // waiting for the body when the close begins; the body follows after.
    const inFlight = Array.from({ length: 10 }, () => {
      const body = JSON.stringify({ digest: randomDigest(), kind: 'shutdown', occurredAt: 1 });
      const req = http.request(url, {
        method: 'POST',
        agent: false,
        headers: {
          authorization,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          expect: '100-continue',
        },
      });
      const continued = new Promise<void>((resolve) => req.once('continue', () => resolve()));
      const answered = new Promise<{ status: number; body: { id?: string } }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { id?: string } }),
          );
        });
        req.on('error', reject);
      });
      req.flushHeaders();
      return { continued, finish: () => req.end(body), answered };
    });
    await Promise.all(inFlight.map((r) => r.continued));
    const closed = api.close();
    await closeBegun(api.address);
    for (const r of inFlight) r.finish();
    const results = await Promise.all(inFlight.map((r) => r.answered));
    await closed;
    expect(results.map((r) => r.status)).toEqual(Array<number>(10).fill(201));
    // startApi was given the database, so it is still open here: every 2xx is committed.
    const rows = await database.db.selectFrom('evidence').select('id').execute();
    const stored = new Set(rows.map((r) => r.id));
    for (const r of results) expect(stored.has(r.body.id!)).toBe(true);
    await expect(fetch(`${api.address}/healthz`)).rejects.toThrow();
    await database.close();
  });
});

describe('requests arriving during shutdown', () => {
  it('are answered 503 FP_UNAVAILABLE in the catalogue shape, logged at info, not as failures', async () => {
    const database = await createTestDatabase('sqlite');
    const { config } = loadConfig({
      API_DB_URL: database.target.url,
      FIELDPROOF_DATA_DIR: tempDir(),
      ...testApiEnv(),
      API_PORT: '0',
    });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const api = await startApi(config, { database, logger });
    const { authorization } = await createKey(database, ['read', 'write']);
    const { port } = new URL(api.address);
    // One connection: a POST held open (the server answered 100 Continue), then, once the close has
    // begun, its body followed by a second, pipelined request on the same connection.
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString()));
    const body = JSON.stringify({ digest: randomDigest(), kind: 'k', occurredAt: 1 });
    socket.write(
      `POST /v1/evidence HTTP/1.1\r\nhost: x\r\nauthorization: ${authorization}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nexpect: 100-continue\r\n\r\n`,
    );
    await waitFor('100 Continue', () => received.includes('100 Continue'));
    const closed = api.close();
    await closeBegun(api.address);
    socket.write(`${body}GET /v1/evidence HTTP/1.1\r\nhost: x\r\nauthorization: ${authorization}\r\n\r\n`);
    await new Promise((resolve) => socket.on('close', resolve));
    await closed;
    expect(received).toMatch(/HTTP\/1\.1 201/);
    expect(received).toMatch(/HTTP\/1\.1 503/);
    expect(received).toContain('"code":"FP_UNAVAILABLE"');
    // A refusal while stopping is no server fault: an info line, never an error.
    const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 30,
        msg: 'request refused: the server is shutting down',
        code: 'FP_UNAVAILABLE',
      }),
    );
    await database.close();
  });
});

/**
 * Resolves once the api's close has begun, seen from outside: a new request is answered 503 (the
 * preClose hook) or no longer accepted at all — an event, not a guess at how long close() takes to start.
 */
async function closeBegun(address: string): Promise<void> {
  await waitFor('the close to begin', () =>
    fetch(`${address}/healthz`).then(
      (res) => res.status === 503,
      () => true,
    ),
  );
}
