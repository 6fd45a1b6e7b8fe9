import { describe, expect, it } from 'vitest';
import { revokeApiKey } from '@fieldproof/db';
import type { Engine } from '@fieldproof/db';
import { createTestApi } from '../../../test/support/api.js';
import type { TestApi } from '../../../test/support/api.js';
import { testEngines } from '../../../test/support/databases.js';
import { addAnchor, createLogFixture } from '../../../test/support/log-fixture.js';

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const keyOf = (h: { authorization: string }) => h.authorization.slice('Bearer '.length);

async function signIn(t: TestApi, key: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/console/session',
    headers: form,
    payload: `key=${encodeURIComponent(key)}`,
  });
  const cookie = String(res.headers['set-cookie'] ?? '');
  return { res, cookie, pair: cookie.split(';')[0]! };
}

function csrfOf(html: string): string {
  return /name="csrf" value="([^"]+)"/.exec(html)![1]!;
}

describe.each(testEngines())('the operator console on %s', (engine: Engine) => {
  it('exchanges a key for a hashed, short-lived HttpOnly SameSite=Strict session; revoking the key ends it', async () => {
    const t = await createTestApi(engine);
    try {
      const form0 = await t.app.inject({ method: 'GET', url: '/console' });
      expect(form0.statusCode).toBe(200);
      expect(form0.body).toContain('action="/console/session"');

      const bad = await signIn(t, 'fp_not-a-key');
      expect(bad.res.statusCode).toBe(401);
      expect(bad.cookie).toBe('');

      const { res, cookie, pair } = await signIn(t, keyOf(t.auth.read));
      expect(res.statusCode).toBe(303);
      expect(cookie).toMatch(
        /^fp_console=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=1800; HttpOnly; SameSite=Strict$/,
      );
      // Only the hash is stored.
      const token = pair.split('=')[1]!;
      const rows = await t.database.db.selectFrom('console_sessions').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.token_hash).not.toContain(token);
      expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);

      // Behind a TLS-terminating proxy the cookie is Secure.
      const viaTls = await t.app.inject({
        method: 'POST',
        url: '/console/session',
        headers: { ...form, 'x-forwarded-proto': 'https' },
        payload: `key=${encodeURIComponent(keyOf(t.auth.read))}`,
      });
      expect(String(viaTls.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
      await t.database.db
        .deleteFrom('console_sessions')
        .where('token_hash', '<>', rows[0]!.token_hash)
        .execute();

      const page = await t.app.inject({ method: 'GET', url: '/console', headers: { cookie: pair } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('id="records"');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      // The session opens read routes and /docs in the browser, but never writes.
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/outbox', headers: { cookie: pair } })).statusCode,
      ).toBe(200);
      expect(
        (await t.app.inject({ method: 'GET', url: '/docs/json', headers: { cookie: pair } })).statusCode,
      ).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(401);
      const write = await t.app.inject({
        method: 'POST',
        url: '/v1/evidence',
        headers: { cookie: pair, 'content-type': 'application/json' },
        payload: { digest: 'a'.repeat(64), kind: 'photo', occurredAt: 1 },
      });
      expect(write.statusCode).toBe(401);

      await revokeApiKey(t.database.db, rows[0]!.key_id, Date.now());
      const after = await t.app.inject({ method: 'GET', url: '/console', headers: { cookie: pair } });
      expect(after.body).toContain('action="/console/session"'); // the sign-in form again
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/outbox', headers: { cookie: pair } })).statusCode,
      ).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('ends a session 30 minutes after sign-in', async () => {
    let now = Date.now();
    const t = await createTestApi(engine, {}, { now: () => now });
    try {
      const { pair } = await signIn(t, keyOf(t.auth.read));
      now += 30 * 60_000 - 1;
      expect(
        (await t.app.inject({ method: 'GET', url: '/console', headers: { cookie: pair } })).body,
      ).toContain('id="records"');
      now += 1;
      expect(
        (await t.app.inject({ method: 'GET', url: '/console', headers: { cookie: pair } })).body,
      ).toContain('action="/console/session"');
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/outbox', headers: { cookie: pair } })).statusCode,
      ).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('retries a dead-lettered job only for an admin session with the CSRF token', async () => {
    const now = Date.now();
    const t = await createTestApi(engine, {}, { now: () => now });
    try {
      const fixture = await createLogFixture(t.database.db, { startAt: now - 60_000 });
      await fixture.appendBatch(3, now - 30_000);
      await addAnchor(
        t.database.db,
        {
          chain: 'sepolia',
          chainId: 11155111,
          treeSize: 3,
          jobState: 'dead',
          txs: [{ state: 'failed' }],
          lastError: 'insufficient funds',
        },
        now - 20_000,
      );
      const job = (await t.database.db.selectFrom('anchor_jobs').select('id').executeTakeFirstOrThrow()).id;

      const reader = await signIn(t, keyOf(t.auth.read));
      const readerPage = await t.app.inject({
        method: 'GET',
        url: '/console',
        headers: { cookie: reader.pair },
      });
      expect(readerPage.body).toContain('admin key needed');
      // The numbers, read by the engine's own queries (hourly buckets in SQL on both engines).
      const shown = (k: string) =>
        new RegExp(`data-k="${k.replace(/[.]/g, '\\.')}"[^>]*>([^<]*)<`).exec(readerPage.body)?.[1];
      expect([shown('records.total'), shown('records.lastHour'), shown('records.lastDay')]).toEqual([
        '3',
        '3',
        '3',
      ]);
      expect([
        shown('checkpoint.treeSize'),
        shown('outbox.dead.total'),
        shown('anchors.sepolia.dead'),
      ]).toEqual(['3', '1', '1']);
      const refused = await t.app.inject({
        method: 'POST',
        url: `/console/anchors/${job}/retry`,
        headers: { ...form, cookie: reader.pair },
        payload: `csrf=${csrfOf(readerPage.body)}`,
      });
      expect(refused.statusCode).toBe(403);

      const admin = await signIn(t, keyOf(t.auth.admin));
      const adminPage = await t.app.inject({
        method: 'GET',
        url: '/console',
        headers: { cookie: admin.pair },
      });
      const noToken = await t.app.inject({
        method: 'POST',
        url: `/console/anchors/${job}/retry`,
        headers: { ...form, cookie: admin.pair },
        payload: 'csrf=wrong',
      });
      expect(noToken.statusCode).toBe(403);
      expect(
        (await t.database.db.selectFrom('anchor_jobs').select('state').executeTakeFirstOrThrow()).state,
      ).toBe('dead');

      const done = await t.app.inject({
        method: 'POST',
        url: `/console/anchors/${job}/retry`,
        headers: { ...form, cookie: admin.pair },
        payload: `csrf=${csrfOf(adminPage.body)}`,
      });
      expect(done.statusCode).toBe(303);
      expect(decodeURIComponent(String(done.headers.location))).toContain(`Re-queued anchor job ${job}`);
      expect(
        (await t.database.db.selectFrom('anchor_jobs').select('state').executeTakeFirstOrThrow()).state,
      ).toBe('pending');
    } finally {
      await t.close();
    }
  });
});
