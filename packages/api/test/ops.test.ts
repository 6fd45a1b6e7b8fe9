import { describe, expect, it } from 'vitest';
import { buildApp } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
import { createDatabase } from '@fieldproof/db';
import { createKey, createTestApi, randomDigest, testApiEnv } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { freshDatabaseUrl, targetOf, tempDir, testEngines } from '../../../test/support/databases.js';

describe.each(testEngines())('health, readiness, metrics, docs (%s)', (engine) => {
  it('/healthz and /readyz answer without a key; /readyz fails on an unmigrated database', async () => {
    const t = await createTestApi(engine);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
    await t.close();

    const database = createDatabase(targetOf(await freshDatabaseUrl(engine)));
    const { config } = loadConfig({
      API_DB_URL: database.target.url,
      FIELDPROOF_DATA_DIR: tempDir(),
      ...testApiEnv(),
      LOG_LEVEL: 'silent',
    });
    const app = await buildApp({ config, database });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json<ApiJson>()).toMatchObject({
      code: 'FP_NOT_READY',
      statusCode: 503,
      error: 'Service Unavailable',
    });
    await app.close();
    await database.close();
  });

  it('/metrics (read scope) has request latency by route and status, intake, batch sizes, pending writes, backlog', async () => {
    const t = await createTestApi(engine);
    await t.app.inject({
      method: 'POST',
      url: '/v1/evidence',
      headers: t.auth.write,
      payload: { payload: [1], kind: 'k', occurredAt: 1 },
    });
    await t.app.inject({ method: 'GET', url: '/v1/evidence/nope', headers: t.auth.read });
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: t.auth.read });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    for (const expected of [
      'fieldproof_api_request_duration_seconds_count{method="POST",route="/v1/evidence",status="201"} 1',
      'fieldproof_api_request_duration_seconds_count{method="GET",route="/v1/evidence/:id",status="400"} 1',
      'fieldproof_api_evidence_intake_total{source="json"} 1',
      'fieldproof_api_group_commit_batch_size_count 1',
      'fieldproof_api_pending_writes 0',
      'fieldproof_api_sequence_backlog 1',
      'fieldproof_api_process_cpu_seconds_total',
    ]) {
      expect(res.body).toContain(expected);
    }
    await t.close();
  });

  it('/docs serves the OpenAPI document generated from the route schemas (read scope)', async () => {
    const t = await createTestApi(engine);
    const res = await t.app.inject({ method: 'GET', url: '/docs/json', headers: t.auth.read });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    for (const route of [
      'POST /v1/evidence',
      'GET /v1/evidence',
      'GET /v1/evidence/{id}',
      'GET /v1/evidence/{id}/content',
      'POST /v1/countermeasures',
      'GET /v1/countermeasures',
      'GET /v1/countermeasures/{id}',
      'POST /v1/signal-disruptions',
      'GET /v1/signal-disruptions',
      'GET /v1/signal-disruptions/{id}',
      'POST /v1/jamming-operations',
      'GET /v1/jamming-operations',
      'GET /v1/jamming-operations/{id}',
      'PATCH /v1/jamming-operations/{id}',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
    ]) {
      expect(routes).toContain(route);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'Evidence', 'Countermeasure']),
    );
    expect(Object.keys(doc.paths['/v1/evidence']!.post as object)).toContain('requestBody');
    const ui = await t.app.inject({ method: 'GET', url: '/docs', headers: t.auth.read });
    expect(ui.statusCode).toBeLessThan(400);
    expect((await t.app.inject({ method: 'GET', url: '/docs/json', headers: t.auth.write })).statusCode).toBe(
      403,
    );
    await t.close();
  });

  it('a 500 never leaks internals: code FP_INTERNAL and the request id only', async () => {
    const t = await createTestApi(engine);
    const headers = t.auth.read;
    await t.app.inject({ method: 'GET', url: '/v1/evidence', headers }); // cache the key
    await t.database.close(); // every query now fails inside the driver
    const res = await t.app.inject({ method: 'GET', url: '/v1/evidence', headers });
    expect(res.statusCode).toBe(500);
    const body = res.json<ApiJson>();
    expect(body).toEqual({
      statusCode: 500,
      code: 'FP_INTERNAL',
      error: 'Internal Server Error',
      message: expect.stringMatching(/^internal error \(request [0-9a-f-]{36}\)$/) as string,
    });
    expect(res.body).not.toMatch(/sqlite|postgres|pool|stack|at \w+ \(/i);
    await t.app.close();
  });
});

/**
 * Blocks the event loop for `ms` without burning a core (Atomics.wait sleeps the thread), so the tests
 * that lag the loop do not take CPU from the rest of a loaded machine. The blocked time is a lower
 * bound whatever the load, and load only makes the measured delay longer. (The delay itself cannot be
 * injected: @fastify/under-pressure reads perf_hooks.monitorEventLoopDelay directly.)
 */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Blocks the event loop for 1.8 s in 150 ms steps, then once for 1.2 s (under-pressure samples the delay
 * once a second, and a sample with no reading at all, the loop blocked throughout, counts as infinite);
 * then records one piece of evidence.
 */
async function postAfterLag(t: TestApi) {
  for (let j = 0; j < 12; j++) {
    block(150);
    await new Promise((r) => setImmediate(r));
  }
  block(1200);
  // Let the sample that spans the block be taken before the request.
  await new Promise((r) => setTimeout(r, 20));
  return t.app.inject({
    method: 'POST',
    url: '/v1/evidence',
    headers: t.auth.write,
    payload: { digest: randomDigest(), kind: 'k', occurredAt: 1 },
  });
}

/**
 * A POST after the event loop was blocked past the production threshold (1 s) through whole monitor
 * samples, as on a loaded 2-core machine: every sample then reads a delay above 1 s.
 */
async function postAfterLongLag(t: TestApi) {
  for (let j = 0; j < 4; j++) {
    block(1100);
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 20));
  return t.app.inject({
    method: 'POST',
    url: '/v1/evidence',
    headers: t.auth.write,
    payload: { digest: randomDigest(), kind: 'k', occurredAt: 1 },
  });
}

describe('overload', () => {
  it('sheds load with 503 FP_OVERLOADED while the event loop lags; probes keep answering', async () => {
    const t = await createTestApi('sqlite', { API_MAX_EVENT_LOOP_DELAY_MS: '10' });
    let shed: ApiJson | undefined;
    for (let i = 0; i < 3 && shed === undefined; i++) {
      const res = await postAfterLag(t);
      if (res.statusCode === 503) {
        shed = res.json<ApiJson>();
        expect(res.headers['retry-after']).toBe('1');
        expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      }
    }
    expect(shed).toMatchObject({ statusCode: 503, code: 'FP_OVERLOADED' });
    await t.close();
  });

  it('the production threshold sheds after a loop blocked for seconds (what a busy CI machine did to tests)', async () => {
    const t = await createTestApi('sqlite', { API_MAX_EVENT_LOOP_DELAY_MS: '1000' });
    expect((await postAfterLongLag(t)).statusCode).toBe(503);
    await t.close();
  });

  it('the default test app does not shed: tests not about shedding pass on a loaded machine', async () => {
    const t = await createTestApi('sqlite');
    expect(t.config.api.maxEventLoopDelayMs).toBe(0);
    expect((await postAfterLongLag(t)).statusCode).toBe(201);
    await t.close();
  });

  it('API_MAX_EVENT_LOOP_DELAY_MS=0: a lagging event loop sheds nothing', async () => {
    const t = await createTestApi('sqlite', { API_MAX_EVENT_LOOP_DELAY_MS: '0' });
    expect((await postAfterLag(t)).statusCode).toBe(201);
    await t.close();
  });

  it('sheds writes with 503 FP_OVERLOADED when too many wait for a commit', async () => {
    const t = await createTestApi('sqlite', { API_MAX_PENDING_WRITES: '4' });
    const headers = await createKey(t.database, ['write']);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.app.inject({
          method: 'POST',
          url: '/v1/evidence',
          headers,
          payload: { digest: randomDigest(), kind: 'k', occurredAt: 1 },
        }),
      ),
    );
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    for (const r of results.filter((x) => x.statusCode === 503))
      expect(r.json<ApiJson>().code).toBe('FP_OVERLOADED');
    const count = await t.database.db
      .selectFrom('evidence')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(statuses.filter((s) => s === 201).length);
    await t.close();
  });
});
