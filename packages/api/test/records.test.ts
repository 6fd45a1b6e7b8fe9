import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSequenceQueue } from '@fieldproof/db';
import { createTestApi, randomDigest } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { testEngines } from '../../../test/support/databases.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const UNKNOWN_ID = '01a1fff6-ff7b-7424-b0d7-69df5f9c8323';

interface Case {
  readonly name: string;
  readonly method?: 'GET' | 'POST' | 'PATCH';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly payload?: unknown;
  readonly status: number;
  readonly code: string;
}

describe.each(testEngines())('operational records (%s)', (engine) => {
  let t: TestApi;
  let evidenceId: string;
  beforeAll(async () => {
    t = await createTestApi(engine);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/evidence',
      headers: t.auth.write,
      payload: { digest: randomDigest(), kind: 'detection', occurredAt: 1000 },
    });
    evidenceId = res.json<ApiJson>().id;
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: unknown, method: 'POST' | 'PATCH' = 'POST') =>
    t.app.inject({ method, url, headers: t.auth.write, payload: payload as object });
  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: t.auth.read });

  /** The record's own evidence entry: kind, source 'record', digest of the stored canonical JSON. */
  async function expectEvidenceEntry(
    id: string,
    kind: string,
    occurredAt: number,
  ): Promise<Record<string, unknown>> {
    const row = await t.database.db
      .selectFrom('evidence')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ kind, source: 'record', payload_mime: 'application/json' });
    expect(Number(row.occurred_at)).toBe(occurredAt);
    expect(row.digest).toBe(sha256(row.payload_json!));
    // It waits to be sequenced (a sequence_queue row on PostgreSQL, after the watermark on SQLite).
    const queued = await readSequenceQueue(t.database.db, 100_000);
    expect(queued.filter((q) => q.id === id)).toHaveLength(1);
    return JSON.parse(row.payload_json!) as Record<string, unknown>;
  }

  it('records a countermeasure with its own evidence entry in the same transaction', async () => {
    const body = {
      operationId: 'cm-1',
      relatedEvidenceId: evidenceId,
      countermeasureType: 'rf-jammer',
      target: 'drone-7',
      deployedAt: 2000,
      latitude: 52.5,
      longitude: 13.4,
      authorizedBy: 'lt. kim',
      notes: 'north ridge',
    };
    const res = await post('/v1/countermeasures', body);
    expect(res.statusCode).toBe(201);
    const record = res.json<ApiJson>();
    expect(record).toMatchObject({ ...body, createdAt: expect.any(Number) as number });
    const recorded = await expectEvidenceEntry(record.evidenceId, 'countermeasure', 2000);
    const { evidenceId: _e, ...shown } = record;
    expect(recorded).toEqual({ recordType: 'countermeasure', ...shown });
    expect((await get(`/v1/countermeasures/${record.id}`)).json()).toEqual(record);
    const evidence = await get(`/v1/evidence/${record.evidenceId}`);
    expect(evidence.json<ApiJson>()).toMatchObject({
      kind: 'countermeasure',
      source: 'record',
      status: 'pending',
    });
  });

  it('answers a replayed operationId with 200, a different body with 409, an unknown reference with 422', async () => {
    const body = { operationId: 'cm-2', countermeasureType: 'spoofer', deployedAt: 3000 };
    const first = await post('/v1/countermeasures', body);
    expect(first.statusCode).toBe(201);
    const replay = await post('/v1/countermeasures', body);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(first.json());
    const conflict = await post('/v1/countermeasures', { ...body, deployedAt: 3001 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json<ApiJson>().code).toBe('FP_OPERATION_CONFLICT');
    const unknown = await post('/v1/countermeasures', {
      ...body,
      operationId: 'cm-3',
      relatedEvidenceId: UNKNOWN_ID,
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json<ApiJson>().code).toBe('FP_UNKNOWN_REFERENCE');
    // Neither failure left a record or an evidence entry behind.
    const rows = await t.database.db.selectFrom('countermeasures').select('operation_id').execute();
    expect(rows.map((r) => r.operation_id).sort()).toEqual(['cm-1', 'cm-2']);
    const entries = await t.database.db
      .selectFrom('evidence')
      .select('id')
      .where('kind', '=', 'countermeasure')
      .execute();
    expect(entries).toHaveLength(2);
  });

  it('records signal-disruption audits (operationId optional) with evidence at the reported time', async () => {
    const body = {
      occurredAt: 4000,
      frequencyLowHz: 1_575_000_000,
      frequencyHighHz: 1_576_000_000,
      durationMs: 90_000,
      affectedSystems: ['gps', 'glonass'],
      cause: 'suspected jamming',
    };
    const a = await post('/v1/signal-disruptions', body);
    const b = await post('/v1/signal-disruptions', body);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(a.json<ApiJson>().id).not.toBe(b.json<ApiJson>().id);
    expect(a.json()).toMatchObject({ ...body, operationId: null, relatedEvidenceId: null, notes: null });
    await expectEvidenceEntry(a.json<ApiJson>().evidenceId, 'signal-disruption', 4000);
    const withOp = await post('/v1/signal-disruptions', { ...body, operationId: 'sd-1' });
    const replay = await post('/v1/signal-disruptions', { ...body, operationId: 'sd-1' });
    expect([withOp.statusCode, replay.statusCode]).toEqual([201, 200]);
    const conflict = await post('/v1/signal-disruptions', { ...body, operationId: 'sd-1', cause: 'other' });
    expect(conflict.json<ApiJson>().code).toBe('FP_OPERATION_CONFLICT');
  });

  it('starts a jamming operation and ends it once with PATCH (replay 200, another end 409, before start 422)', async () => {
    const start = await post('/v1/jamming-operations', {
      operationId: 'jam-1',
      frequencyLowHz: 2_400_000_000,
      frequencyHighHz: 2_483_500_000,
      powerDbm: 30,
      authorizedBy: 'cpt. ode',
      startedAt: 10_000,
    });
    expect(start.statusCode).toBe(201);
    const op = start.json<ApiJson>();
    expect(op).toMatchObject({ endedAt: null, successMetric: null, endEvidenceId: null });
    const url = `/v1/jamming-operations/${op.id}`;

    const early = await post(url, { endedAt: 9_999, successMetric: 0.5 }, 'PATCH');
    expect(early.statusCode).toBe(422);
    expect(early.json<ApiJson>().code).toBe('FP_ENDED_BEFORE_START');

    const end = await post(url, { endedAt: 20_000, successMetric: 0.75 }, 'PATCH');
    expect(end.statusCode).toBe(200);
    const ended = end.json<ApiJson>();
    expect(ended).toMatchObject({
      endedAt: 20_000,
      successMetric: 0.75,
      endEvidenceId: expect.any(String) as string,
    });
    const entry = await expectEvidenceEntry(ended.endEvidenceId as string, 'jamming-operation-end', 20_000);
    expect(entry).toMatchObject({
      recordType: 'jamming-operation-end',
      jammingOperationId: op.id,
      endedAt: 20_000,
    });

    const replay = await post(url, { endedAt: 20_000, successMetric: 0.75 }, 'PATCH');
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(ended);
    const again = await post(url, { endedAt: 30_000 }, 'PATCH');
    expect(again.statusCode).toBe(409);
    expect(again.json<ApiJson>().code).toBe('FP_ALREADY_ENDED');
    const missing = await post(`/v1/jamming-operations/${UNKNOWN_ID}`, { endedAt: 30_000 }, 'PATCH');
    expect(missing.statusCode).toBe(404);
    // Exactly one end entry was written.
    const ends = await t.database.db
      .selectFrom('evidence')
      .select('id')
      .where('kind', '=', 'jamming-operation-end')
      .execute();
    expect(ends).toHaveLength(1);
  });

  it('lists records in time order with cursors and filters', async () => {
    for (let i = 0; i < 5; i++) {
      await post('/v1/jamming-operations', {
        operationId: `list-${i}`,
        frequencyLowHz: 1,
        frequencyHighHz: 2,
        authorizedBy: 'x',
        startedAt: 50_000 + (i % 2), // ties on startedAt: the id breaks them
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(
        `/v1/jamming-operations?limit=2&from=50000${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      expect(res.statusCode).toBe(200);
      const page = res.json<ApiJson>();
      seen.push(...page.items.map((i) => i.operationId as string));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.sort()).toEqual(['list-0', 'list-1', 'list-2', 'list-3', 'list-4']);
    const active = await get('/v1/jamming-operations?state=ended');
    expect(active.json<ApiJson>().items.map((i) => i.operationId)).toEqual(['jam-1']);
    const byOp = await get('/v1/countermeasures?operationId=cm-2');
    expect(byOp.json<ApiJson>().items).toHaveLength(1);
    const desc = await get('/v1/countermeasures?order=desc');
    expect(desc.json<ApiJson>().items.map((i) => i.operationId)).toEqual(['cm-2', 'cm-1']);
  });

  const cm = { operationId: 'v-1', countermeasureType: 'x', deployedAt: 1 };
  const sd = { occurredAt: 1, frequencyLowHz: 1, frequencyHighHz: 2, durationMs: 1, cause: 'c' };
  const jam = { operationId: 'v-2', frequencyLowHz: 1, frequencyHighHz: 2, authorizedBy: 'a', startedAt: 1 };
  const cases: Case[] = [
    {
      name: 'countermeasure without operationId',
      url: '/v1/countermeasures',
      payload: { countermeasureType: 'x', deployedAt: 1 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'countermeasure with an unknown field',
      url: '/v1/countermeasures',
      payload: { ...cm, colour: 'red' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'countermeasure with latitude 91',
      url: '/v1/countermeasures',
      payload: { ...cm, latitude: 91 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'countermeasure with deployedAt as text',
      url: '/v1/countermeasures',
      payload: { ...cm, deployedAt: '1' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'countermeasure with a malformed relatedEvidenceId',
      url: '/v1/countermeasures',
      payload: { ...cm, relatedEvidenceId: 'abc' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'countermeasure with an empty operationId',
      url: '/v1/countermeasures',
      payload: { ...cm, operationId: '' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'countermeasure with notes too long',
      url: '/v1/countermeasures',
      payload: { ...cm, notes: 'n'.repeat(4097) },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'countermeasure as text/plain',
      url: '/v1/countermeasures',
      headers: { 'content-type': 'text/plain' },
      payload: 'x',
      status: 415,
      code: 'FP_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'countermeasure as octet-stream',
      url: '/v1/countermeasures',
      headers: { 'content-type': 'application/octet-stream' },
      payload: 'x',
      status: 415,
      code: 'FP_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'countermeasure with a query parameter',
      url: '/v1/countermeasures?dryRun=1',
      payload: cm,
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'countermeasure with malformed JSON',
      url: '/v1/countermeasures',
      headers: { 'content-type': 'application/json' },
      payload: '{',
      status: 400,
      code: 'FP_MALFORMED_JSON',
    },
    {
      name: 'signal disruption with high < low',
      url: '/v1/signal-disruptions',
      payload: { ...sd, frequencyLowHz: 5, frequencyHighHz: 4 },
      status: 400,
      code: 'FP_INVALID_RANGE',
    },
    {
      name: 'signal disruption with negative duration',
      url: '/v1/signal-disruptions',
      payload: { ...sd, durationMs: -1 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'signal disruption with affectedSystems not an array',
      url: '/v1/signal-disruptions',
      payload: { ...sd, affectedSystems: 'gps' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'signal disruption without cause',
      url: '/v1/signal-disruptions',
      payload: { ...sd, cause: undefined },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'signal disruption with unknown reference',
      url: '/v1/signal-disruptions',
      payload: { ...sd, relatedEvidenceId: UNKNOWN_ID },
      status: 422,
      code: 'FP_UNKNOWN_REFERENCE',
    },
    {
      name: 'jamming operation with high < low',
      url: '/v1/jamming-operations',
      payload: { ...jam, frequencyLowHz: 3 },
      status: 400,
      code: 'FP_INVALID_RANGE',
    },
    {
      name: 'jamming operation without authorizedBy',
      url: '/v1/jamming-operations',
      payload: { ...jam, authorizedBy: undefined },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'jamming operation with unknown reference',
      url: '/v1/jamming-operations',
      payload: { ...jam, operationId: 'v-3', relatedEvidenceId: UNKNOWN_ID },
      status: 422,
      code: 'FP_UNKNOWN_REFERENCE',
    },
    {
      name: 'PATCH with successMetric 1.5',
      method: 'PATCH',
      url: `/v1/jamming-operations/${UNKNOWN_ID}`,
      payload: { endedAt: 5, successMetric: 1.5 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'PATCH without endedAt',
      method: 'PATCH',
      url: `/v1/jamming-operations/${UNKNOWN_ID}`,
      payload: { successMetric: 0.5 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'PATCH with an unknown field',
      method: 'PATCH',
      url: `/v1/jamming-operations/${UNKNOWN_ID}`,
      payload: { endedAt: 5, startedAt: 1 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'PATCH with a bad id',
      method: 'PATCH',
      url: '/v1/jamming-operations/not-an-id',
      payload: { endedAt: 5 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'PATCH of a countermeasure (no such route)',
      method: 'PATCH',
      url: `/v1/countermeasures/${UNKNOWN_ID}`,
      payload: { endedAt: 5 },
      status: 404,
      code: 'FP_NOT_FOUND',
    },
    {
      name: 'GET countermeasure with a bad id',
      method: 'GET',
      url: '/v1/countermeasures/123',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'GET countermeasure with an uppercase id',
      method: 'GET',
      url: `/v1/countermeasures/${UNKNOWN_ID.toUpperCase()}`,
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'GET unknown countermeasure',
      method: 'GET',
      url: `/v1/countermeasures/${UNKNOWN_ID}`,
      status: 404,
      code: 'FP_NOT_FOUND',
    },
    {
      name: 'GET unknown signal disruption',
      method: 'GET',
      url: `/v1/signal-disruptions/${UNKNOWN_ID}`,
      status: 404,
      code: 'FP_NOT_FOUND',
    },
    {
      name: 'GET unknown jamming operation',
      method: 'GET',
      url: `/v1/jamming-operations/${UNKNOWN_ID}`,
      status: 404,
      code: 'FP_NOT_FOUND',
    },
    {
      name: 'list with limit 0',
      method: 'GET',
      url: '/v1/countermeasures?limit=0',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'list with limit 501',
      method: 'GET',
      url: '/v1/signal-disruptions?limit=501',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'list with limit abc',
      method: 'GET',
      url: '/v1/signal-disruptions?limit=abc',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'list with from after to',
      method: 'GET',
      url: '/v1/jamming-operations?from=5&to=4',
      status: 400,
      code: 'FP_INVALID_RANGE',
    },
    {
      name: 'list with an unknown state',
      method: 'GET',
      url: '/v1/jamming-operations?state=paused',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'list with an unknown parameter',
      method: 'GET',
      url: '/v1/countermeasures?sort=x',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'list with a garbage cursor',
      method: 'GET',
      url: '/v1/countermeasures?cursor=bm9wZQ',
      status: 400,
      code: 'FP_INVALID_CURSOR',
    },
    {
      name: 'list with a cursor of another list',
      method: 'GET',
      url: `/v1/countermeasures?cursor=${Buffer.from(JSON.stringify(['signal-disruption:asc', 1, UNKNOWN_ID])).toString('base64url')}`,
      status: 400,
      code: 'FP_INVALID_CURSOR',
    },
    {
      name: 'list with a cursor of another order',
      method: 'GET',
      url: `/v1/countermeasures?order=desc&cursor=${Buffer.from(JSON.stringify(['countermeasure:asc', 1, UNKNOWN_ID])).toString('base64url')}`,
      status: 400,
      code: 'FP_INVALID_CURSOR',
    },
    {
      name: 'list with a cursor with invalid characters',
      method: 'GET',
      url: '/v1/countermeasures?cursor=a%2Bb',
      status: 400,
      code: 'FP_VALIDATION',
    },
  ];

  it.each(cases)('$name → $status $code', async (c) => {
    const method = c.method ?? 'POST';
    const res = await t.app.inject({
      method,
      url: c.url,
      headers: { ...(method === 'GET' ? t.auth.read : t.auth.write), ...c.headers },
      ...(c.payload === undefined ? {} : { payload: c.payload as string }),
    });
    expect(res.statusCode, res.body).toBe(c.status);
    expect(res.json<ApiJson>().code).toBe(c.code);
  });
});
