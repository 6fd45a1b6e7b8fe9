import { afterAll, describe, expect, it } from 'vitest';
import { dropTestDatabases } from '../../../test/support/databases.js';
import { SimulatedUnit, collectorDatabaseUrl, createTestCollector, devicePath } from './support.js';

afterAll(dropTestDatabases);

/** The fleet-proofs route on a collector without fleet anchoring (test/collector-fleet.test.ts: with it). */
describe('GET /v1/devices/:origin/fleet-proofs without fleet anchoring', () => {
  it('answers 404 FP_FLEET_DISABLED to the push key, 401 without it, 400 on a bad limit', async () => {
    const c = await createTestCollector(await collectorDatabaseUrl('sqlite'));
    try {
      const unit = new SimulatedUnit();
      const key = await c.enroll(unit);
      const get = (query: string, auth: string | null = key) =>
        c.app.inject({
          method: 'GET',
          url: devicePath(unit.origin, `/fleet-proofs${query}`),
          headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
        });
      const disabled = await get('');
      expect(disabled.statusCode).toBe(404);
      expect(disabled.json()).toMatchObject({ code: 'FP_FLEET_DISABLED' });
      expect((await get('', null)).statusCode).toBe(401);
      for (const query of ['?limit=0', '?limit=257', '?limit=x']) {
        expect((await get(query)).json(), query).toMatchObject({ code: 'FP_VALIDATION' });
      }
    } finally {
      await c.close();
    }
  });
});
