import { toHex } from '@fieldproof/merkle';
import { createCosigner, generateDeviceKey, verifyCosignature } from '@fieldproof/note';
import { describe, expect, it } from 'vitest';
import { countDeviceLeaves, findDeviceByOrigin } from '../src/index.js';
import { TEST_PG_URL } from '../../../test/support/databases.js';
import { SimulatedUnit, collectorDatabaseUrl, createTestCollector, sendPush } from './support.js';

/**
 * Two collector instances (each its own pool, as two replicas) on one PostgreSQL database: pushes for one
 * device from both at once are serialised by the device row lock, never by process memory. Without the
 * lock two transactions would both append from the same head and one would fail on the primary key (a
 * 500) or, worse, both heads would be written.
 */
describe.skipIf(TEST_PG_URL === '')('collector replicas on one PostgreSQL', () => {
  it('serialise concurrent pushes for one device: everything mirrored once, every answer cosigned', async () => {
    const url = await collectorDatabaseUrl('postgres');
    const witness = createCosigner(generateDeviceKey('collector.test/witness'));
    const a = await createTestCollector(url, { cosigner: witness });
    const b = await createTestCollector(url, { cosigner: witness });
    try {
      const unit = new SimulatedUnit();
      const key = await a.enroll(unit);
      // Five checkpoints; each push carries every leaf from 0 and a proof from the previous checkpoint,
      // so it is valid whatever the collector holds when it runs (nothing, or any earlier checkpoint).
      const sizes = [7, 19, 20, 45, 64];
      const pushes = sizes.map((size, i) => {
        unit.record(size - unit.tree.treeSize);
        return unit.push({ fromLeaf: 0, ...(i > 0 ? { proofFrom: sizes[i - 1]! } : {}) });
      });
      // Each push five times on each replica, all at once.
      const sent = pushes.flatMap((push) =>
        Array.from({ length: 5 }, () => [
          sendPush(a.app, unit.origin, key, push),
          sendPush(b.app, unit.origin, key, push),
        ]).flat(),
      );
      const answers = await Promise.all(sent);
      for (const res of answers) {
        // 200, or (for a push older than the held head whose proof starts beyond it) a 422 gap; never a 500.
        expect([200, 422], res.body).toContain(res.statusCode);
        if (res.statusCode === 200) {
          const body = res.json<{ treeSize: number; cosignature: string }>();
          verifyCosignature(unit.checkpoints.get(body.treeSize)! + body.cosignature, witness.verifierKey);
        } else {
          expect(res.json()).toMatchObject({ code: 'FP_LEAF_GAP' });
        }
      }
      const appended = answers
        .filter((r) => r.statusCode === 200)
        .reduce((sum, r) => sum + r.json<{ appended: number }>().appended, 0);
      expect(appended).toBe(64); // every leaf stored exactly once

      // The newest push again settles it, from either replica.
      expect((await sendPush(b.app, unit.origin, key, pushes[4]!)).json()).toMatchObject({
        treeSize: 64,
        appended: 0,
      });
      const device = (await findDeviceByOrigin(a.collector.db, unit.origin))!;
      expect(device).toMatchObject({ tree_size: 64, root_hash: toHex(unit.tree.root()) });
      expect(await countDeviceLeaves(a.collector.db, device.id)).toBe(64);
      const checkpoints = await a.collector.db
        .selectFrom('device_checkpoints')
        .select('tree_size')
        .where('device_id', '=', device.id)
        .orderBy('tree_size')
        .execute();
      // Each accepted size once (a push may be overtaken by a later one and never stored).
      const stored = checkpoints.map((r) => Number(r.tree_size));
      expect(new Set(stored).size).toBe(stored.length);
      expect(stored.at(-1)).toBe(64);
      const equivocations = await a.collector.db.selectFrom('equivocations').selectAll().execute();
      expect(equivocations).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
