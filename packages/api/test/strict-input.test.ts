import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@fieldproof/db';
import { createTestApi, randomDigest } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { testEngines } from '../../../test/support/databases.js';
import { insertEvidenceRow } from '../../../test/support/evidence-rows.js';

/**
 * Input is refused, never stored changed or stored unservable (issue 11, items 4-7): on every intake path
 * (JSON bodies, the query string, the `metadata` of raw uploads) and on both engines, with a code that
 * names the problem and a message that names the field.
 */

interface Case {
  readonly name: string;
  readonly url?: string;
  readonly headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON. */
  readonly payload?: unknown;
  readonly status: number;
  readonly code?: string;
  /** Text the message must contain (the field it names). */
  readonly message?: string;
}

const json = { 'content-type': 'application/json' };
const octet = { 'content-type': 'application/octet-stream' };
const digest = () => randomDigest();
/** A digest-form body as JSON text with `extra` spliced in after `kind` (for hand-written JSON). */
const digestBody = (extra: string) => `{"digest":"${digest()}","kind":"k","occurredAt":1${extra}}`;
const bytesUrl = (query: string) => `/v1/evidence?kind=k&occurredAt=1&${query}`;
const q = encodeURIComponent;
/** `levels` nested arrays: `[[…]]`. */
const nestedArrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
/** `levels` nested objects: `{"a":{"a":…{}}}`. */
const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

describe.each(testEngines())('strict input (%s)', (engine) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(engine, { API_MAX_EVENT_LOOP_DELAY_MS: '0' });
  });
  afterAll(async () => t.close());

  /** A fresh unique body each time, so that accepted cases never replay one another. */
  const bytes = () => Buffer.from(`content ${Math.random()}`);
  const send = (c: Pick<Case, 'url' | 'headers' | 'payload'>) =>
    t.app.inject({
      method: 'POST',
      url: c.url ?? '/v1/evidence',
      headers: { ...t.auth.write, ...c.headers },
      payload: c.payload as string,
    });

  const cases: Case[] = [
    // Item 4: payloadMime is an RFC 9110 media type of visible ASCII, or it is refused.
    {
      name: 'bytes: payloadMime with CR LF in a quoted parameter (header injection)',
      url: bytesUrl(`payloadMime=${q('text/plain; a="x\r\nSet-Cookie: pwn=1"')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_VALIDATION',
      message: 'payloadMime',
    },
    {
      name: 'bytes: payloadMime with NUL in a quoted parameter',
      url: bytesUrl(`payloadMime=${q('text/plain; a="x\u0000"')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
    },
    {
      name: 'bytes: payloadMime with a non-Latin-1 character in a quoted parameter',
      url: bytesUrl(`payloadMime=${q('text/plain; a="☃"')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'bytes: payloadMime with a Latin-1 (non-ASCII) character in a quoted parameter',
      url: bytesUrl(`payloadMime=${q('text/plain; a="é"')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'digest: payloadMime with LF as the space before a parameter',
      payload: { digest: digest(), kind: 'k', occurredAt: 1, payloadMime: 'text/plain;\na=b' },
      status: 400,
      code: 'FP_VALIDATION',
      message: 'payloadMime',
    },
    {
      name: 'digest: payloadMime with a tab inside a quoted parameter',
      payload: { digest: digest(), kind: 'k', occurredAt: 1, payloadMime: 'text/plain; a="x\ty"' },
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'bytes: payloadMime with parameters, a quoted string and a quoted pair is accepted',
      url: bytesUrl(`payloadMime=${q('text/plain; charset=utf-8; name="a b \\" c"')}`),
      headers: octet,
      payload: bytes(),
      status: 201,
    },

    // Item 5: no NUL nor other C0 control (but tab, CR, LF) in any text, on any path.
    {
      name: 'countermeasure notes with NUL',
      url: '/v1/countermeasures',
      payload: { operationId: newId(), countermeasureType: 'c', deployedAt: 1, notes: 'a\u0000b' },
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
      message: 'body/notes',
    },
    {
      name: 'countermeasure target with BEL',
      url: '/v1/countermeasures',
      payload: { operationId: newId(), countermeasureType: 'c', deployedAt: 1, target: 'a\u0007' },
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
      message: 'body/target',
    },
    {
      name: 'countermeasure notes with a \\b escape',
      url: '/v1/countermeasures',
      headers: json,
      payload: `{"operationId":"${newId()}","countermeasureType":"c","deployedAt":1,"notes":"a\\bc"}`,
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
    },
    {
      name: 'countermeasure notes with tab, CR and LF is accepted',
      url: '/v1/countermeasures',
      payload: { operationId: newId(), countermeasureType: 'c', deployedAt: 1, notes: 'a\tb\r\nc\n' },
      status: 201,
    },
    {
      name: 'signal disruption affectedSystems item with NUL',
      url: '/v1/signal-disruptions',
      payload: {
        occurredAt: 1,
        frequencyLowHz: 1,
        frequencyHighHz: 2,
        durationMs: 1,
        cause: 'c',
        affectedSystems: ['gps', 'x\u0000'],
      },
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
      message: 'body/affectedSystems/1',
    },
    {
      name: 'jamming operation target with NUL',
      url: '/v1/jamming-operations',
      payload: {
        operationId: newId(),
        frequencyLowHz: 1,
        frequencyHighHz: 2,
        authorizedBy: 'x\u0000',
        startedAt: 1,
      },
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
    },
    {
      name: 'JSON payload string with NUL',
      payload: { payload: { s: ['ok', 'a\u0000'] }, kind: 'k', occurredAt: 1 },
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
      message: 'body/payload/s/1',
    },
    {
      name: 'JSON payload key with NUL',
      payload: { payload: { 'a\u0000': 1 }, kind: 'k', occurredAt: 1 },
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
    },
    {
      name: 'metadata string with ESC',
      payload: { digest: digest(), kind: 'k', occurredAt: 1, metadata: { s: '\u001b[31m' } },
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
      message: 'body/metadata/s',
    },
    {
      name: 'bytes: metadata string with NUL',
      url: bytesUrl(`metadata=${q('{"s":"\\u0000"}')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
      message: 'querystring/metadata/s',
    },
    {
      name: 'bytes: query parameter with NUL',
      url: `/v1/evidence?kind=a%00&occurredAt=1`,
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_CONTROL_CHARACTER',
      message: 'querystring/kind',
    },

    // Item 6: input that would be silently changed is refused, with a code naming the problem.
    {
      name: 'body that is not valid UTF-8',
      headers: json,
      payload: Buffer.concat([
        Buffer.from(digestBody(',"metadata":{"s":"')),
        Buffer.from([0xff]),
        Buffer.from('"}}'),
      ]),
      status: 400,
      code: 'FP_INVALID_UTF8',
    },
    {
      name: 'countermeasure body with an overlong UTF-8 sequence',
      url: '/v1/countermeasures',
      headers: json,
      payload: Buffer.concat([
        Buffer.from(`{"operationId":"${newId()}","countermeasureType":"c","deployedAt":1,"notes":"`),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from('"}'),
      ]),
      status: 400,
      code: 'FP_INVALID_UTF8',
    },
    {
      name: 'bytes: metadata that is not valid UTF-8 once percent-decoded',
      url: bytesUrl(`metadata=${q('{"s":"')}%FF${q('"}')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_INVALID_UTF8',
      message: 'querystring/metadata',
    },
    {
      name: 'list query parameter that is not valid UTF-8',
      url: '/v1/countermeasures?operationId=%C3',
      status: 400,
      code: 'FP_INVALID_UTF8',
    },
    {
      name: 'query parameter with a malformed percent-encoding',
      url: '/v1/countermeasures?operationId=a%zz',
      status: 400,
      code: 'FP_BAD_REQUEST',
      message: 'querystring/operationId',
    },
    {
      name: 'integer beyond 2^53 in a JSON payload',
      headers: json,
      payload: '{"payload":{"n":123456789012345678901234567890},"kind":"k","occurredAt":1}',
      status: 400,
      code: 'FP_INEXACT_NUMBER',
      message: 'body/payload/n',
    },
    {
      name: '2^53 + 1 in a JSON payload',
      headers: json,
      payload: '{"payload":[9007199254740993],"kind":"k","occurredAt":1}',
      status: 400,
      code: 'FP_INEXACT_NUMBER',
      message: 'body/payload/0',
    },
    {
      name: 'a number that overflows a double (1e400) in metadata',
      headers: json,
      payload: digestBody(',"metadata":{"x":1e400}'),
      status: 400,
      code: 'FP_INEXACT_NUMBER',
    },
    {
      name: 'a number that underflows to 0 (1e-400) in metadata',
      headers: json,
      payload: digestBody(',"metadata":{"x":1e-400}'),
      status: 400,
      code: 'FP_INEXACT_NUMBER',
    },
    {
      name: 'a decimal with more precision than a double in a countermeasure',
      url: '/v1/countermeasures',
      headers: json,
      payload: `{"operationId":"${newId()}","countermeasureType":"c","deployedAt":1,"latitude":1.00000000000000000001}`,
      status: 400,
      code: 'FP_INEXACT_NUMBER',
      message: 'body/latitude',
    },
    {
      name: 'bytes: metadata with an integer beyond 2^53',
      url: bytesUrl(`metadata=${q('{"n":9007199254740993}')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_INEXACT_NUMBER',
      message: 'querystring/metadata/n',
    },
    {
      name: 'numbers a double holds as written are accepted (2^53, 1e21, 1.50, -0, 0.1)',
      headers: json,
      payload: `{"payload":[9007199254740992,1e21,1.50,-0,0.1,${Math.random()}],"kind":"k","occurredAt":1}`,
      status: 201,
    },
    {
      name: 'duplicate body field',
      headers: json,
      payload: `{"digest":"${digest()}","kind":"a","kind":"b","occurredAt":1}`,
      status: 400,
      code: 'FP_DUPLICATE_KEY',
      message: 'body/kind',
    },
    {
      name: 'duplicate key with the same value in a JSON payload',
      headers: json,
      payload: '{"payload":{"a":{"x":1,"x":1}},"kind":"k","occurredAt":1}',
      status: 400,
      code: 'FP_DUPLICATE_KEY',
      message: 'body/payload/a/x',
    },
    {
      name: 'duplicate key spelt with an escape in metadata',
      headers: json,
      payload: digestBody(',"metadata":{"a":1,"\\u0061":2}'),
      status: 400,
      code: 'FP_DUPLICATE_KEY',
      message: 'body/metadata/a',
    },
    {
      name: 'bytes: duplicate key in metadata',
      url: bytesUrl(`metadata=${q('{"a":1,"a":2}')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_DUPLICATE_KEY',
      message: 'querystring/metadata/a',
    },
    {
      name: 'bytes: query parameter given twice',
      url: '/v1/evidence?kind=a&kind=b&occurredAt=1',
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_DUPLICATE_KEY',
      message: 'querystring/kind',
    },
    {
      name: 'body after a UTF-8 byte-order mark',
      headers: json,
      payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(digestBody(''))]),
      status: 400,
      code: 'FP_BYTE_ORDER_MARK',
    },
    {
      name: 'bytes: metadata after a byte-order mark',
      url: bytesUrl(`metadata=%EF%BB%BF${q('{}')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_BYTE_ORDER_MARK',
      message: 'querystring/metadata',
    },
    {
      name: '__proto__ key in a JSON body',
      headers: json,
      payload: `{"__proto__":{"x":1},"digest":"${digest()}","kind":"k","occurredAt":1}`,
      status: 400,
      code: 'FP_FORBIDDEN_KEY',
      message: 'body/__proto__',
    },
    {
      name: 'bytes: __proto__ key in metadata',
      url: bytesUrl(`metadata=${q('{"__proto__":{"x":1}}')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_FORBIDDEN_KEY',
      message: 'querystring/metadata/__proto__',
    },
    {
      name: 'bytes: constructor.prototype in metadata',
      url: bytesUrl(`metadata=${q('{"constructor":{"prototype":{"x":1}}}')}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_FORBIDDEN_KEY',
      message: 'querystring/metadata/constructor/prototype',
    },
    {
      name: 'constructor.prototype in a JSON payload',
      headers: json,
      payload: '{"payload":{"constructor":{"prototype":1}},"kind":"k","occurredAt":1}',
      status: 400,
      code: 'FP_FORBIDDEN_KEY',
    },
    {
      name: 'a plain "constructor" key is accepted',
      headers: json,
      payload: `{"payload":{"constructor":"${Math.random()}","prototype":1},"kind":"k","occurredAt":1}`,
      status: 201,
    },
    {
      name: 'JSON payload nested 65 levels',
      headers: json,
      payload: `{"payload":${nestedArrays(65)},"kind":"k","occurredAt":1}`,
      status: 400,
      code: 'FP_NESTING_TOO_DEEP',
      message: 'body/payload',
    },
    {
      name: 'JSON payload nested 64 levels is accepted',
      headers: json,
      payload: `{"payload":[${Math.random()},${nestedArrays(63)}],"kind":"k","occurredAt":1}`,
      status: 201,
    },
    {
      name: 'metadata nested 65 levels',
      headers: json,
      payload: digestBody(`,"metadata":${nestedObjects(65)}`),
      status: 400,
      code: 'FP_NESTING_TOO_DEEP',
      message: 'body/metadata',
    },
    {
      name: 'bytes: metadata nested 65 levels',
      url: bytesUrl(`metadata=${q(nestedObjects(65))}`),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_NESTING_TOO_DEEP',
      message: 'querystring/metadata',
    },
    {
      name: 'bytes: metadata nested 64 levels is accepted',
      url: bytesUrl(`metadata=${q(nestedObjects(64))}`),
      headers: octet,
      payload: bytes(),
      status: 201,
    },

    // Item 7: validation messages name the field.
    {
      name: 'unknown body field',
      payload: { digest: digest(), kind: 'k', occurredAt: 1, colour: 'red' },
      status: 400,
      code: 'FP_VALIDATION',
      message: 'colour',
    },
    {
      name: 'unknown countermeasure field',
      url: '/v1/countermeasures',
      payload: { operationId: newId(), countermeasureType: 'c', deployedAt: 1, severity: 3 },
      status: 400,
      code: 'FP_VALIDATION',
      message: 'body/severity',
    },
    {
      name: 'unknown query parameter',
      url: bytesUrl('colour=red'),
      headers: octet,
      payload: bytes(),
      status: 400,
      code: 'FP_VALIDATION',
      message: 'querystring/colour',
    },
    {
      name: 'unknown list query parameter',
      url: '/v1/evidence?colour=red',
      status: 400,
      code: 'FP_VALIDATION',
      message: 'querystring/colour',
    },
  ];

  // A loop rather than it.each: it.each cuts `$name` at 40 characters.
  for (const c of cases)
    it(`${c.name} → ${c.status} ${c.code ?? ''}`, async () => {
      const res = await t.app.inject({
        method: c.payload === undefined ? 'GET' : 'POST',
        url: c.url ?? '/v1/evidence',
        headers: { ...(c.payload === undefined ? t.auth.read : t.auth.write), ...c.headers },
        ...(c.payload === undefined ? {} : { payload: c.payload as string }),
      });
      expect(res.statusCode, res.body).toBe(c.status);
      if (c.status < 400) return;
      const body = res.json<ApiJson>();
      expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
      if (c.code !== undefined) expect(body.code).toBe(c.code);
      if (c.message !== undefined) expect(body.message).toContain(c.message);
    });

  it('stores nothing that it refused', async () => {
    const res = await send({
      url: '/v1/countermeasures',
      payload: { operationId: 'nul-op', countermeasureType: 'c', deployedAt: 1, notes: '\u0000' },
    });
    expect(res.statusCode).toBe(400);
    const rows = await t.database.db
      .selectFrom('countermeasures')
      .select('id')
      .where('operation_id', '=', 'nul-op')
      .execute();
    expect(rows).toEqual([]);
  });

  it('serves content whose stored payloadMime is no valid header value as application/octet-stream', async () => {
    // Rows stored before payloadMime was checked: evidence is append-only, so they can never be fixed.
    for (const mime of ['text/plain; a="x\r\nSet-Cookie: pwn=1"', 'text/plain; a="☃"', 'text/plain;\ta=b']) {
      const content = Buffer.from(`stored before the check ${Math.random()}`);
      const digest = createHash('sha256').update(content).digest('hex');
      const file = path.join(t.dataDir, 'content', digest.slice(0, 2), digest.slice(2, 4), digest);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      const { id } = await insertEvidenceRow(t.database.db, {
        digest,
        kind: 'k',
        source: 'bytes',
        payload_mime: mime,
        payload_size: content.length,
        content_stored: 1,
      });
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/evidence/${id}/content`,
        headers: t.auth.read,
      });
      expect(res.statusCode, `${JSON.stringify(mime)}: ${res.body}`).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.rawPayload).toEqual(content);
      expect(res.headers['set-cookie']).toBeUndefined();
      // The record itself still shows what was stored.
      const view = await t.app.inject({ method: 'GET', url: `/v1/evidence/${id}`, headers: t.auth.read });
      expect(view.json<ApiJson>().payloadMime).toBe(mime);
    }
  });
});
