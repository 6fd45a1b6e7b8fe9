import { describe, expect, it } from 'vitest';
import { createApiKeySecret, hashApiKey, newId } from '@fieldproof/db';
import { insertOperatorKey, revokeOperatorKey } from '../src/index.js';
import { testEngines } from '../../../test/support/databases.js';
import { SimulatedUnit, collectorDatabaseUrl, createTestCollector, devicePath, sendPush } from './support.js';

const NOW = 1_765_000_000_000;

describe.each(testEngines())('the collector console (%s)', (engine) => {
  it('signs in with an operator key and lists every unit with tree size, last push, lag and equivocations', async () => {
    const c = await createTestCollector(await collectorDatabaseUrl(engine), { now: () => NOW });
    try {
      const unit = new SimulatedUnit();
      const key = await c.enroll(unit);
      unit.record(10);
      expect((await sendPush(c.app, unit.origin, key, unit.push())).statusCode).toBe(200);
      const forked = unit.fork(10);
      forked.record(2, { tag: 'after restore' });
      unit.record(2);
      expect((await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 10 }))).statusCode).toBe(200);
      expect((await sendPush(c.app, unit.origin, key, forked.push({ proofFrom: 10 }))).statusCode).toBe(409);
      const quiet = new SimulatedUnit(undefined, 'fieldproof.test/log/quiet-unit');
      await c.enroll(quiet);

      const operator = createApiKeySecret();
      const keyId = newId();
      await insertOperatorKey(c.collector.db, {
        id: keyId,
        keyHash: hashApiKey(operator),
        label: null,
        createdAt: NOW,
      });

      expect((await c.app.inject({ method: 'GET', url: '/console' })).body).toContain(
        'action="/console/session"',
      );
      const wrong = await c.app.inject({
        method: 'POST',
        url: '/console/session',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `key=${encodeURIComponent(key)}`, // a push key is not an operator key
      });
      expect(wrong.statusCode).toBe(401);
      const res = await c.app.inject({
        method: 'POST',
        url: '/console/session',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `key=${encodeURIComponent(operator)}`,
      });
      expect(res.statusCode).toBe(303);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(/HttpOnly; SameSite=Strict$/);
      const pair = cookie.split(';')[0]!;

      const page = await c.app.inject({ method: 'GET', url: '/console', headers: { cookie: pair } });
      expect(page.statusCode).toBe(200);
      const value = (k: string) =>
        new RegExp(`data-k="${k.replace(/[.]/g, '\\.')}"[^>]*>([^<]*)<`).exec(page.body)?.[1];
      expect(value('devices.count')).toBe('2');
      expect(value(`devices.${unit.origin}.treeSize`)).toBe('12');
      const listed = await c.app.inject({ method: 'GET', url: devicePath(unit.origin, '/equivocations') });
      expect(value(`devices.${unit.origin}.equivocations`)).toBe(
        String(listed.json<{ equivocations: unknown[] }>().equivocations.length),
      );
      expect(value(`devices.${unit.origin}.equivocations`)).toBe('1');
      expect(value(`devices.${quiet.origin}.equivocations`)).toBe('0');
      expect(page.body).toContain('never'); // the quiet unit never pushed
      expect(page.body).toContain(new Date(NOW).toISOString()); // the last push, at the collector's clock

      await revokeOperatorKey(c.collector.db, keyId, NOW);
      const after = await c.app.inject({ method: 'GET', url: '/console', headers: { cookie: pair } });
      expect(after.body).toContain('action="/console/session"');
    } finally {
      await c.close();
    }
  });
});
