import { describe, expect, it } from 'vitest';
import { buildApp } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
import { createDatabase } from '@fieldproof/db';
import { createKey, createTestApi, randomDigest, testApiEnv } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { freshDatabaseUrl, targetOf, tempDir, testEngines } from '../../../test/support/databases.js';
import { waitFor } from '../../../test/support/wait-for.js';

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

/** A POST of one piece of evidence with the write key. */
function post(t: TestApi) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/evidence',
    headers: t.auth.write,
    payload: { digest: randomDigest(), kind: 'k', occurredAt: 1 },
  });
}

/**
 * Blocks the event loop for `ms` without burning a core (Atomics.wait sleeps the thread). Only the test
 * of the production delay source blocks; the others set the delay the api reads.
 */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('overload', () => {
  it('sheds load with 503 FP_OVERLOADED (retry-after 1) while the event-loop delay is above API_MAX_EVENT_LOOP_DELAY_MS; probes keep answering', async () => {
    let delayMs = 0;
    const t = await createTestApi(
      'sqlite',
      { API_MAX_EVENT_LOOP_DELAY_MS: '1000' },
      { eventLoopDelay: () => delayMs },
    );
    expect((await post(t)).statusCode).toBe(201);
    delayMs = 1000; // at the threshold: not above it
    expect((await post(t)).statusCode).toBe(201);

    // The api reads the delay on every request: the next one is shed, reads as well as writes.
    delayMs = 1001;
    const shed = await post(t);
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(shed.json<ApiJson>()).toMatchObject({ code: 'FP_OVERLOADED', statusCode: 503 });
    expect(shed.json<ApiJson>().message).toMatch(/overloaded \(eventLoopDelay\)/);
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/evidence', headers: t.auth.read })).statusCode,
    ).toBe(503);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
    // A sample with no reading at all (the loop blocked throughout) is an infinite delay.
    delayMs = Infinity;
    expect((await post(t)).statusCode).toBe(503);

    delayMs = 0;
    expect((await post(t)).statusCode).toBe(201);
    await t.close();
  });

  it("API_MAX_EVENT_LOOP_DELAY_MS=0 (the test apps' default): even an infinite delay sheds nothing", async () => {
    const t = await createTestApi('sqlite', {}, { eventLoopDelay: () => Infinity });
    expect(t.config.api.maxEventLoopDelayMs).toBe(0);
    expect((await post(t)).statusCode).toBe(201);
    await t.close();
  });

  it('by default the delay is the sampled event loop (monitorEventLoopDelay): a blocked loop gets the api to shed', async () => {
    const t = await createTestApi('sqlite', { API_MAX_EVENT_LOOP_DELAY_MS: '10' });
    // Blocking between tries raises the once-a-second sample; no bound on how soon it sheds.
    const shed = await waitFor(
      'a request shed on the sampled delay',
      async () => {
        const res = await post(t);
        return res.statusCode === 503 && res;
      },
      { between: async () => block(200), timeoutMs: 20_000 },
    );
    expect(shed.json<ApiJson>().code).toBe('FP_OVERLOADED');
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
