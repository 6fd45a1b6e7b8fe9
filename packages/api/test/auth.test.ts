import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { buildApp, createApiKeySecret, FIRST_KEY_HINT, hashApiKey, parseScopeList } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
import { insertApiKey, listApiKeys, newId, revokeApiKey } from '@fieldproof/db';
import { createKey, createTestApi, randomDigest, testApiEnv } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { createTestDatabase, tempDir, testEngines } from '../../../test/support/databases.js';

describe('API key secrets', () => {
  it('are fp_ + 256 random bits, stored only as SHA-256 hex', () => {
    const keys = new Set(Array.from({ length: 100 }, () => createApiKeySecret()));
    expect(keys.size).toBe(100);
    for (const k of keys) {
      expect(k).toMatch(/^fp_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(k.slice(3), 'base64url')).toHaveLength(32);
      expect(hashApiKey(k)).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('scope lists are validated', () => {
    expect(parseScopeList('read, write,read')).toEqual(['read', 'write']);
    expect(() => parseScopeList('read,root')).toThrow(/unknown scope "root"/);
    expect(() => parseScopeList(' , ')).toThrow(/no scopes/);
  });
});

describe.each(testEngines())('authentication and authorisation (%s)', (engine) => {
  let t: TestApi;
  const evidence = () => ({ digest: randomDigest(), kind: 'k', occurredAt: 1 });
  beforeAll(async () => {
    t = await createTestApi(engine, { API_KEY_CACHE_MS: '200' });
  });
  afterAll(async () => t.close());

  const cases = [
    { name: 'no header', headers: {}, status: 401, code: 'FP_UNAUTHORIZED' },
    {
      name: 'Basic scheme',
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      status: 401,
      code: 'FP_UNAUTHORIZED',
    },
    {
      name: 'Bearer without a key',
      headers: { authorization: 'Bearer' },
      status: 401,
      code: 'FP_UNAUTHORIZED',
    },
    {
      name: 'malformed key',
      headers: { authorization: 'Bearer fp_short' },
      status: 401,
      code: 'FP_UNAUTHORIZED',
    },
    {
      name: 'unknown key',
      headers: { authorization: `Bearer ${createApiKeySecret()}` },
      status: 401,
      code: 'FP_UNAUTHORIZED',
    },
  ];
  it.each(cases)('$name → $status', async (c) => {
    for (const [method, url] of [
      ['GET', '/v1/evidence'],
      ['POST', '/v1/evidence'],
      ['GET', '/metrics'],
      ['GET', '/docs/json'],
      ['GET', '/v1/nowhere'],
    ] as const) {
      const res = await t.app.inject({
        method,
        url,
        headers: c.headers,
        payload: method === 'POST' ? evidence() : undefined,
      });
      expect(res.statusCode, `${method} ${url}`).toBe(c.status);
      expect(res.json<ApiJson>().code).toBe(c.code);
    }
  });

  it('needs the route scope (403), admin includes read and write, bearer is case-insensitive', async () => {
    const readOnWrite = await t.app.inject({
      method: 'POST',
      url: '/v1/evidence',
      headers: t.auth.read,
      payload: evidence(),
    });
    expect(readOnWrite.statusCode).toBe(403);
    expect(readOnWrite.json<ApiJson>().code).toBe('FP_FORBIDDEN');
    const writeOnRead = await t.app.inject({ method: 'GET', url: '/v1/evidence', headers: t.auth.write });
    expect(writeOnRead.statusCode).toBe(403);
    const writeOnMetrics = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.auth.write });
    expect(writeOnMetrics.statusCode).toBe(403);
    for (const [method, url] of [
      ['GET', '/v1/evidence'],
      ['POST', '/v1/evidence'],
      ['GET', '/metrics'],
      ['GET', '/docs/json'],
    ] as const) {
      const res = await t.app.inject({
        method,
        url,
        headers: t.auth.admin,
        payload: method === 'POST' ? evidence() : undefined,
      });
      expect(res.statusCode, `${method} ${url}`).toBeLessThan(300);
    }
    const lower = await t.app.inject({
      method: 'GET',
      url: '/v1/evidence',
      headers: { authorization: t.auth.read.authorization.replace('Bearer', 'bearer') },
    });
    expect(lower.statusCode).toBe(200);
  });

  it('keeps /healthz and /readyz open', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('stops accepting a revoked key within the cache time', async () => {
    // The api's clock is injected: the cache time passes when the test says so, not on the wall clock.
    let clock = Date.now();
    const app = await buildApp({ config: t.config, database: t.database, now: () => clock });
    onTestFinished(() => app.close());
    const headers = await createKey(t.database, ['read']);
    expect((await app.inject({ method: 'GET', url: '/v1/evidence', headers })).statusCode).toBe(200);
    const keys = await listApiKeys(t.database.db);
    const key = keys.find((k) => k.key_hash === hashApiKey(headers.authorization.slice('Bearer '.length)))!;
    expect(await revokeApiKey(t.database.db, key.id, clock)).toBe(true);
    // Within the cache time the cached key is still accepted (the documented bound) …
    expect((await app.inject({ method: 'GET', url: '/v1/evidence', headers })).statusCode).toBe(200);
    clock += t.config.api.keyCacheTtlMs;
    // … and once it has passed, the revocation holds.
    expect((await app.inject({ method: 'GET', url: '/v1/evidence', headers })).statusCode).toBe(401);
  });

  it('does not log the key', async () => {
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(l) });
    const app = await buildApp({ config: t.config, database: t.database, logger });
    await app.inject({ method: 'GET', url: '/v1/evidence', headers: t.auth.read });
    await app.inject({ method: 'GET', url: '/v1/evidence', headers: { authorization: 'Bearer fp_wrong' } });
    await app.close();
    const secret = t.auth.read.authorization.slice('Bearer '.length);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(secret);
    expect(lines.join('\n')).not.toContain('fp_wrong');
    expect(lines.some((l) => (JSON.parse(l) as { reqId?: string }).reqId !== undefined)).toBe(true);
  });
});

describe('per-key rate limit', () => {
  it('answers 429 with the error shape once a key exceeds its limit, per key', async () => {
    const t = await createTestApi('sqlite', { API_RATE_LIMIT_PER_MINUTE: '3' });
    const statuses: number[] = [];
    let last: ApiJson | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/evidence', headers: t.auth.read });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        last = res.json<ApiJson>();
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last).toMatchObject({ statusCode: 429, code: 'FP_RATE_LIMITED', error: 'Too Many Requests' });
    // Another key has its own budget; the probes are not limited.
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/evidence', headers: t.auth.admin })).statusCode,
    ).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await t.close();
  });
});

describe('per-address rate limit (before authentication)', () => {
  it('answers a flood of bad keys 429 once an address exceeds its limit; other addresses keep theirs', async () => {
    const t = await createTestApi('sqlite', {
      API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '5',
      API_RATE_LIMIT_PER_MINUTE: '1000',
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
    });
    const from = (remoteAddress: string, authorization: string) =>
      t.app.inject({ method: 'GET', url: '/v1/evidence', remoteAddress, headers: { authorization } });
    const statuses: number[] = [];
    let last: ApiJson | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await from('10.0.0.1', `Bearer fp_wrong${i}`);
      statuses.push(res.statusCode);
      if (res.statusCode === 429) {
        last = res.json<ApiJson>();
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    }
    // The limiter runs before authentication: the bad keys stop costing a key lookup after the fifth.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(last).toMatchObject({ statusCode: 429, code: 'FP_RATE_LIMITED' });
    expect(String(last?.message)).toMatch(/address/);
    // The flooding address is refused even with a good key; another address with a good key is served.
    expect((await from('10.0.0.1', t.auth.read.authorization)).statusCode).toBe(429);
    expect((await from('10.0.0.2', t.auth.read.authorization)).statusCode).toBe(200);
    // The probes stay open to every address.
    expect(
      (await t.app.inject({ method: 'GET', url: '/readyz', remoteAddress: '10.0.0.1' })).statusCode,
    ).toBe(200);
    await t.close();
  });
});

describe('first start without keys', () => {
  it('requires auth for everything and logs one line on how to create the first key', async () => {
    const database = await createTestDatabase('sqlite');
    const { config } = loadConfig({
      ...testApiEnv(),
      API_DB_URL: database.target.url,
      FIELDPROOF_DATA_DIR: tempDir(),
    });
    const lines: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const app = await buildApp({ config, database, logger });
    await app.ready();
    const hints = lines.filter((l) => l.includes('fieldproof keys create --scopes read,write,admin'));
    expect(hints).toHaveLength(1);
    expect((JSON.parse(hints[0]!) as { msg: string }).msg).toBe(FIRST_KEY_HINT);
    expect((await app.inject({ method: 'GET', url: '/v1/evidence' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/docs' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Once an admin key exists (e.g. created by the CLI while the api runs), it works.
    const secret = createApiKeySecret();
    await insertApiKey(database.db, {
      id: newId(),
      keyHash: hashApiKey(secret),
      label: null,
      scopes: ['admin'],
      createdAt: 1,
    });
    const res = await app.inject({
      method: 'GET',
      url: '/v1/evidence',
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(res.statusCode).toBe(200);
    await app.close();
    await database.close();
  });
});
