import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSequenceQueue } from '@fieldproof/db';
import { canonicalJson } from '@fieldproof/receipt';
import { createTestApi, randomDigest } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { testEngines } from '../../../test/support/databases.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

interface Case {
  readonly name: string;
  readonly method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly url?: string;
  readonly headers?: Record<string, string>;
  readonly payload?: unknown;
  readonly status: number;
  readonly code?: string;
}

describe.each(testEngines())('POST /v1/evidence (%s)', (engine) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(engine, { API_CONTENT_LIMIT_BYTES: '4096', API_METADATA_LIMIT_BYTES: '256' });
  });
  afterAll(async () => t.close());

  const post = (payload: unknown, headers: Record<string, string> = {}, url = '/v1/evidence') =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...t.auth.write, ...headers },
      payload: payload as string,
    });

  it('records a client digest (201), normalising uppercase to lowercase', async () => {
    const digest = randomDigest();
    const res = await post({ digest: digest.toUpperCase(), kind: 'photo', occurredAt: 1_700_000_000_000 });
    expect(res.statusCode).toBe(201);
    const body = res.json<ApiJson>();
    expect(body).toMatchObject({
      digest,
      kind: 'photo',
      source: 'digest',
      occurredAt: 1_700_000_000_000,
      payloadMime: null,
      metadata: null,
      contentStored: false,
      leafIndex: null,
      status: 'pending',
      anchors: [],
    });
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    // It waits to be sequenced: a sequence_queue row written with it on PostgreSQL; after the
    // sequencer's watermark on SQLite.
    const queued = await readSequenceQueue(t.database.db, 100_000);
    expect(queued.filter((q) => q.id === body.id)).toHaveLength(1);
  });

  it('canonicalises a JSON payload (RFC 8785), hashes and stores it, and serves it back', async () => {
    const payload = { z: [1, 2.5, 'é'], a: { c: true, b: null }, n: 1e21 };
    const canonical = canonicalJson(payload);
    const res = await post({ payload, kind: 'reading', occurredAt: 5, metadata: { unit: 'dBm', site: 7 } });
    expect(res.statusCode).toBe(201);
    const body = res.json<ApiJson>();
    expect(body.digest).toBe(sha256(canonical));
    expect(body).toMatchObject({
      source: 'json',
      payloadMime: 'application/json',
      payloadSize: Buffer.byteLength(canonical),
      metadata: { site: 7, unit: 'dBm' },
      contentStored: true,
    });
    const row = await t.database.db
      .selectFrom('evidence')
      .selectAll()
      .where('id', '=', body.id)
      .executeTakeFirstOrThrow();
    expect(row.payload_json).toBe(canonical);
    expect(row.metadata).toBe('{"site":7,"unit":"dBm"}');
    const content = await t.app.inject({
      method: 'GET',
      url: `/v1/evidence/${body.id}/content`,
      headers: t.auth.read,
    });
    expect(content.statusCode).toBe(200);
    expect(content.headers['content-type']).toMatch(/^application\/json/);
    expect(content.body).toBe(canonical);
  });

  it('streams raw bytes to the content store, fsynced under content/ab/cd/<digest>, and serves them back', async () => {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const digest = sha256(bytes);
    const res = await post(
      bytes,
      { 'content-type': 'application/octet-stream' },
      `/v1/evidence?kind=capture&occurredAt=42&payloadMime=image/PNG&metadata=${encodeURIComponent('{"cam":2}')}`,
    );
    expect(res.statusCode).toBe(201);
    expect(res.json<ApiJson>()).toMatchObject({
      digest,
      source: 'bytes',
      occurredAt: 42,
      payloadMime: 'image/png',
      payloadSize: 3000,
      metadata: { cam: 2 },
      contentStored: true,
    });
    const file = `${t.dataDir}/content/${digest.slice(0, 2)}/${digest.slice(2, 4)}/${digest}`;
    expect(fs.readFileSync(file)).toEqual(bytes);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(`${t.dataDir}/content/.tmp`)).toEqual([]);
    const content = await t.app.inject({
      method: 'GET',
      url: `/v1/evidence/${res.json<ApiJson>().id}/content`,
      headers: t.auth.read,
    });
    expect(content.statusCode).toBe(200);
    expect(content.headers['content-type']).toBe('image/png');
    expect(content.headers['content-length']).toBe('3000');
    expect(content.headers['x-content-type-options']).toBe('nosniff');
    expect(content.rawPayload).toEqual(bytes);
  });

  it('checks an expected digest against the streamed bytes (422 on mismatch, nothing kept)', async () => {
    const bytes = Buffer.from('expected digest check');
    const ok = await post(
      bytes,
      { 'content-type': 'application/octet-stream' },
      `/v1/evidence?kind=k&occurredAt=1&digest=${sha256(bytes).toUpperCase()}`,
    );
    expect(ok.statusCode).toBe(201);
    const other = Buffer.from('different bytes');
    const bad = await post(
      other,
      { 'content-type': 'application/octet-stream' },
      `/v1/evidence?kind=k&occurredAt=1&digest=${sha256(bytes)}`,
    );
    expect(bad.statusCode).toBe(422);
    expect(bad.json<ApiJson>().code).toBe('FP_DIGEST_MISMATCH');
    expect(
      fs.existsSync(
        `${t.dataDir}/content/${sha256(other).slice(0, 2)}/${sha256(other).slice(2, 4)}/${sha256(other)}`,
      ),
    ).toBe(false);
  });

  it('answers a replay with 200 and the existing record, a different submission of the digest with 409', async () => {
    const digest = randomDigest();
    const first = await post({ digest, kind: 'photo', occurredAt: 10, metadata: { b: 1, a: 2 } });
    expect(first.statusCode).toBe(201);
    // Same fields; metadata in another key order is the same canonical metadata.
    const replay = await post({
      digest: digest.toUpperCase(),
      kind: 'photo',
      occurredAt: 10,
      metadata: { a: 2, b: 1 },
    });
    expect(replay.statusCode).toBe(200);
    expect(replay.json<ApiJson>()).toEqual(first.json<ApiJson>());
    for (const changed of [
      { kind: 'video', occurredAt: 10, metadata: { a: 2, b: 1 } },
      { kind: 'photo', occurredAt: 11, metadata: { a: 2, b: 1 } },
      { kind: 'photo', occurredAt: 10 },
      { kind: 'photo', occurredAt: 10, metadata: { a: 2, b: 1 }, payloadMime: 'image/jpeg' },
    ]) {
      const res = await post({ digest, ...changed });
      expect(res.statusCode, JSON.stringify(changed)).toBe(409);
      expect(res.json<ApiJson>().code).toBe('FP_EVIDENCE_CONFLICT');
      expect(res.json<ApiJson>().message).toContain(first.json<ApiJson>().id);
    }
    const count = await t.database.db
      .selectFrom('evidence')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('digest', '=', digest)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it('treats the same JSON payload (any key order) and the same bytes as replays', async () => {
    const a = await post({ payload: { x: 1, y: [2] }, kind: 'j', occurredAt: 3 });
    const b = await post({ payload: { y: [2], x: 1 }, kind: 'j', occurredAt: 3 });
    expect([a.statusCode, b.statusCode]).toEqual([201, 200]);
    expect(b.json<ApiJson>().id).toBe(a.json<ApiJson>().id);
    const bytes = Buffer.from('same bytes twice');
    const url = '/v1/evidence?kind=b&occurredAt=3';
    const c = await post(bytes, { 'content-type': 'application/octet-stream' }, url);
    const d = await post(bytes, { 'content-type': 'application/octet-stream' }, url);
    expect([c.statusCode, d.statusCode]).toEqual([201, 200]);
    expect(d.json<ApiJson>().id).toBe(c.json<ApiJson>().id);
  });

  const json = { 'content-type': 'application/json' };
  const octet = { 'content-type': 'application/octet-stream' };
  const valid = { digest: 'a'.repeat(64), kind: 'photo', occurredAt: 1 };
  const cases: Case[] = [
    {
      name: 'digest of 63 hex digits',
      payload: { ...valid, digest: 'a'.repeat(63) },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'digest of 65 hex digits',
      payload: { ...valid, digest: 'a'.repeat(65) },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'digest with a non-hex character',
      payload: { ...valid, digest: `${'a'.repeat(63)}g` },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'digest with a 0x prefix',
      payload: { ...valid, digest: `0x${'a'.repeat(62)}` },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'digest with whitespace',
      payload: { ...valid, digest: ` ${'a'.repeat(64)}` },
      status: 400,
      code: 'FP_VALIDATION',
    },
    { name: 'digest as a number', payload: { ...valid, digest: 12345 }, status: 400, code: 'FP_VALIDATION' },
    {
      name: 'missing kind',
      payload: { digest: valid.digest, occurredAt: 1 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'missing occurredAt',
      payload: { digest: valid.digest, kind: 'k' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'occurredAt as a string (no body coercion)',
      payload: { ...valid, occurredAt: '1' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'occurredAt fractional',
      payload: { ...valid, occurredAt: 1.5 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'occurredAt negative',
      payload: { ...valid, occurredAt: -1 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'occurredAt beyond year 9999',
      payload: { ...valid, occurredAt: 1e20 },
      status: 400,
      code: 'FP_VALIDATION',
    },
    { name: 'kind empty', payload: { ...valid, kind: '' }, status: 400, code: 'FP_VALIDATION' },
    {
      name: 'kind too long',
      payload: { ...valid, kind: 'k'.repeat(65) },
      status: 400,
      code: 'FP_VALIDATION',
    },
    { name: 'kind with spaces', payload: { ...valid, kind: 'a b' }, status: 400, code: 'FP_VALIDATION' },
    { name: 'unknown field', payload: { ...valid, extra: 1 }, status: 400, code: 'FP_VALIDATION' },
    {
      name: 'metadata not an object',
      payload: { ...valid, metadata: [1] },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'metadata over the limit',
      payload: { ...valid, metadata: { s: 'x'.repeat(300) } },
      status: 413,
      code: 'FP_METADATA_TOO_LARGE',
    },
    {
      name: 'metadata with a lone surrogate',
      payload: `{"digest":"${'a'.repeat(64)}","kind":"k","occurredAt":1,"metadata":{"s":"\\ud800"}}`,
      headers: json,
      status: 400,
      code: 'FP_INVALID_JSON_VALUE',
    },
    {
      name: 'payload with a lone surrogate',
      payload: '{"payload":"\\udc00","kind":"k","occurredAt":1}',
      headers: json,
      status: 400,
      code: 'FP_INVALID_JSON_VALUE',
    },
    {
      name: 'both digest and payload',
      payload: { ...valid, payload: 1 },
      status: 400,
      code: 'FP_BAD_REQUEST',
    },
    {
      name: 'neither digest nor payload',
      payload: { kind: 'k', occurredAt: 1 },
      status: 400,
      code: 'FP_BAD_REQUEST',
    },
    {
      name: 'payloadMime with a payload',
      payload: { payload: 1, kind: 'k', occurredAt: 1, payloadMime: 'text/plain' },
      status: 400,
      code: 'FP_BAD_REQUEST',
    },
    {
      name: 'malformed payloadMime',
      payload: { ...valid, payloadMime: 'not a mime' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'query parameters with a JSON body',
      url: '/v1/evidence?kind=k',
      payload: valid,
      status: 400,
      code: 'FP_BAD_REQUEST',
    },
    {
      name: 'unknown query parameter',
      url: '/v1/evidence?foo=1',
      payload: valid,
      status: 400,
      code: 'FP_VALIDATION',
    },
    { name: 'malformed JSON', payload: '{"digest": ', headers: json, status: 400, code: 'FP_MALFORMED_JSON' },
    { name: 'empty JSON body', payload: '', headers: json, status: 400, code: 'FP_MALFORMED_JSON' },
    { name: 'JSON array body', payload: '[1,2]', headers: json, status: 400, code: 'FP_VALIDATION' },
    { name: 'JSON null body', payload: 'null', headers: json, status: 400, code: 'FP_VALIDATION' },
    {
      name: '__proto__ key',
      payload: `{"__proto__":{"x":1},"digest":"${'a'.repeat(64)}","kind":"k","occurredAt":1}`,
      headers: json,
      status: 400,
      code: 'FP_FORBIDDEN_KEY',
    },
    {
      name: 'text/plain',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
      status: 415,
      code: 'FP_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'form encoding',
      payload: 'a=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
      code: 'FP_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'JSON body over the body limit',
      payload: { payload: 'x'.repeat(1_100_000), kind: 'k', occurredAt: 1 },
      status: 413,
      code: 'FP_PAYLOAD_TOO_LARGE',
    },
    {
      name: 'bytes without kind',
      url: '/v1/evidence?occurredAt=1',
      payload: 'abc',
      headers: octet,
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'bytes with occurredAt 1e3',
      url: '/v1/evidence?kind=k&occurredAt=1e3',
      payload: 'abc',
      headers: octet,
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'bytes with occurredAt 01',
      url: '/v1/evidence?kind=k&occurredAt=01',
      payload: 'abc',
      headers: octet,
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'bytes with kind given twice',
      url: '/v1/evidence?kind=a&kind=b&occurredAt=1',
      payload: 'abc',
      headers: octet,
      status: 400,
      code: 'FP_DUPLICATE_KEY',
    },
    {
      name: 'bytes with an unknown query parameter',
      url: '/v1/evidence?kind=k&occurredAt=1&x=1',
      payload: 'abc',
      headers: octet,
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'bytes with metadata that is not JSON',
      url: '/v1/evidence?kind=k&occurredAt=1&metadata=%7Bx',
      payload: 'abc',
      headers: octet,
      status: 400,
      code: 'FP_MALFORMED_JSON',
    },
    {
      name: 'bytes with metadata that is an array',
      url: '/v1/evidence?kind=k&occurredAt=1&metadata=%5B1%5D',
      payload: 'abc',
      headers: octet,
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'bytes with a malformed expected digest',
      url: '/v1/evidence?kind=k&occurredAt=1&digest=abc',
      payload: 'abc',
      headers: octet,
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'empty bytes',
      url: '/v1/evidence?kind=k&occurredAt=1',
      payload: '',
      headers: octet,
      status: 400,
      code: 'FP_BAD_REQUEST',
    },
    {
      name: 'bytes over the content limit',
      url: '/v1/evidence?kind=k&occurredAt=1',
      payload: Buffer.alloc(5000, 1),
      headers: octet,
      status: 413,
      code: 'FP_PAYLOAD_TOO_LARGE',
    },
    {
      name: 'no authorization',
      headers: { authorization: '' },
      payload: valid,
      status: 401,
      code: 'FP_UNAUTHORIZED',
    },
    { name: 'PUT is not a route', method: 'PUT', payload: valid, status: 404, code: 'FP_NOT_FOUND' },
    {
      name: 'DELETE is not a route (evidence is append-only)',
      method: 'DELETE',
      url: '/v1/evidence/01a1fff6-ff7b-7424-b0d7-69df5f9c8323',
      status: 404,
      code: 'FP_NOT_FOUND',
    },
  ];

  it.each(cases)('$name → $status $code', async (c) => {
    const headers: Record<string, string> = { ...t.auth.write, ...c.headers };
    if (headers.authorization === '') delete headers.authorization;
    const res = await t.app.inject({
      method: c.method ?? 'POST',
      url: c.url ?? '/v1/evidence',
      headers,
      ...(c.payload === undefined ? {} : { payload: c.payload as string }),
    });
    expect(res.statusCode, res.body).toBe(c.status);
    const body = res.json<ApiJson>();
    expect(body.code).toBe(c.code);
    expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
    expect(body.statusCode).toBe(c.status);
  });

  it('leaves no partial content file behind after a refused upload', async () => {
    expect(fs.readdirSync(`${t.dataDir}/content/.tmp`)).toEqual([]);
  });
});
