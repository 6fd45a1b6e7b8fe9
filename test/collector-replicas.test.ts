import { setTimeout as sleep } from 'node:timers/promises';
import {
  countDeviceLeaves,
  createCollectorDatabase,
  findDeviceByOrigin,
  getDeviceCheckpoint,
} from '@fieldproof/collector';
import { parseDatabaseUrl } from '@fieldproof/db';
import { fromHex, rootFromLeafHashes, toHex } from '@fieldproof/merkle';
import { verifyCosignature } from '@fieldproof/note';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  FleetUnit,
  enrollFleet,
  killAtRandom,
  pushRounds,
  seededRandom,
  startReplicas,
} from '../bench/lib/fleet.mjs';
import type { Replicas } from '../bench/lib/fleet.mjs';
import { TEST_PG_URL, freshDatabaseUrl, tempDir } from './support/databases.js';

/** Fleet size: 30 units in `npm test`; FIELDPROOF_FLEET_UNITS=200 for the full fleet. */
const UNITS = Number(process.env.FIELDPROOF_FLEET_UNITS ?? '30');
/** Push rounds per unit (each records 1–20 records, signs, pushes). */
const ROUNDS = Number(process.env.FIELDPROOF_FLEET_ROUNDS ?? '10');
const REPLICAS = 3;
const POOL_MAX = 3;

/**
 * Issue 15, "Several replicas": three `fieldproof collector` processes on one PostgreSQL database, a fleet
 * of simulated units (real leaves, real signed checkpoints, real pushes over HTTP) pushing concurrently,
 * and replicas SIGKILLed at random moments throughout (seeded: FIELDPROOF_FLEET_SEED draws the same choices again).
 */
describe.skipIf(TEST_PG_URL === '')(`${REPLICAS} collector replicas, ${UNITS} units, SIGKILL`, () => {
  it('mirror and cosign every unit fully, trees recompute, nothing stored twice, no equivocation', async () => {
    const seed = Number(process.env.FIELDPROOF_FLEET_SEED ?? String(Date.now() % 2 ** 31));
    console.log(`fleet seed ${seed} (FIELDPROOF_FLEET_SEED=${seed} draws the same random choices)`);
    const random = seededRandom(seed);
    const dbUrl = await freshDatabaseUrl('postgres');
    const dbName = new URL(dbUrl).pathname.slice(1);
    const units = Array.from({ length: UNITS }, (_, i) => new FleetUnit(`fleet.test/log/unit-${i}`));
    await enrollFleet(dbUrl, units);
    const errorLines: string[] = [];
    const replicas: Replicas = await startReplicas({
      count: REPLICAS,
      dbUrl,
      dataDir: tempDir('fieldproof-fleet-'),
      poolMax: POOL_MAX,
      onLine: (i, line) => {
        if (line.includes('"level":50')) errorLines.push(`replica ${i}: ${line}`);
      },
    });
    const sampler = new pg.Client({ connectionString: TEST_PG_URL });
    await sampler.connect();
    let maxConnections = 0;
    let running = true;
    let killer: ReturnType<typeof killAtRandom> | undefined;
    try {
      const sampling = (async () => {
        while (running) {
          // Per replica process (its PGAPPNAME), so a killed replica's backends still being torn down
          // are not counted against the one that replaced it.
          const { rows } = await sampler.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = $1 AND application_name LIKE 'fieldproof-collector-%'
              GROUP BY application_name`,
            [dbName],
          );
          for (const row of rows) maxConnections = Math.max(maxConnections, Number(row.n));
          await sleep(100);
        }
      })();
      // Kill a running replica every 0.2–1.2 s (at least one stays up); it restarts in the background.
      killer = killAtRandom(replicas, {
        count: REPLICAS,
        random,
        minMs: 200,
        spreadMs: 1_000,
        pauseMs: 500,
      });
      const stats = await pushRounds(units, {
        rounds: ROUNDS,
        maxRecords: 20,
        pauseMs: 500,
        replicas,
        random,
      });
      const kills = await killer.stop();
      running = false;
      await sampling;
      console.log(
        `fleet: ${kills.length} SIGKILLs; ${stats.pushes} pushes, ${stats.retries} retried, ${stats.gaps} gaps; ` +
          `at most ${maxConnections} connections per replica process`,
      );
      expect(kills.length).toBeGreaterThanOrEqual(3);
      // Every replica process held connections, and never more than its pool (COLLECTOR_DB_POOL_MAX).
      expect(maxConnections).toBeGreaterThan(0);
      expect(maxConnections).toBeLessThanOrEqual(POOL_MAX);

      const collector = createCollectorDatabase(parseDatabaseUrl(dbUrl, 'test'), { postgresPoolMax: 2 });
      try {
        let total = 0;
        for (const unit of units) {
          const size = unit.tree.treeSize;
          total += size;
          const root = toHex(unit.tree.root());
          const device = (await findDeviceByOrigin(collector.db, unit.origin))!;
          expect(device).toMatchObject({ tree_size: size, root_hash: root });
          const leaves = await collector.db
            .selectFrom('device_leaves')
            .select('leaf_hash')
            .where('device_id', '=', device.id)
            .orderBy('leaf_index')
            .execute();
          expect(leaves).toHaveLength(size);
          expect(toHex(rootFromLeafHashes(leaves.map((l) => fromHex(l.leaf_hash))))).toBe(root);
          // Every perfect subtree stored exactly once: ⌊size / 2^level⌋ nodes at each level ≥ 1.
          let expectedNodes = 0;
          for (let level = 1; 2 ** level <= size; level++) expectedNodes += Math.floor(size / 2 ** level);
          const nodes = await collector.db
            .selectFrom('device_nodes')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('device_id', '=', device.id)
            .executeTakeFirstOrThrow();
          expect(Number(nodes.n)).toBe(expectedNodes);
          const held = (await getDeviceCheckpoint(collector.db, device.id, size))!;
          verifyCosignature(unit.checkpoints.get(size)! + held.cosignature, replicas.witnessKey);
          expect(unit.acked).toBe(size);
          expect(await countDeviceLeaves(collector.db, device.id)).toBe(size);
        }
        const all = await collector.db
          .selectFrom('device_leaves')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(all.n)).toBe(total);
        expect(await collector.db.selectFrom('equivocations').selectAll().execute()).toEqual([]);
        expect(errorLines.filter((l) => l.includes('equivocation'))).toEqual([]);
      } finally {
        await collector.close();
      }
    } finally {
      running = false;
      await killer?.stop();
      await sampler.end();
      await replicas.stopAll();
    }
  }, 900_000);
});
