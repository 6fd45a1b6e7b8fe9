import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordFleetProofFailure } from '@fieldproof/db';
import { createKeeper } from '@fieldproof/keeper';
import { createCosigner, generateDeviceKey } from '@fieldproof/note';
import { createAnchoring } from '../src/anchor/index.js';
import type { Anchoring, KeeperTask } from '@fieldproof/keeper';
import { createTestDatabase, tempDir, testEngines } from '../../../test/support/databases.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { addEvidence, testDeps, testDevice } from './support.js';

describe.each(testEngines())('keeper on %s', (engine) => {
  it('sequences while running, serves /healthz /readyz /metrics, and stops cleanly', async () => {
    const database = await createTestDatabase(engine);
    const deps = testDeps(database, { KEEPER_POLL_MS: '20' });
    const keeper = createKeeper({ ...deps, device: testDevice() });
    try {
      expect(keeper.tasks.map((t) => t.name)).toEqual(['sequencer']);
      await addEvidence(database, 5);
      const before = await fetchText(keeper, '/metrics').catch(() => undefined);
      expect(before).toBeUndefined(); // not listening before start()
      await keeper.start();

      await waitFor(
        'five leaves sequenced',
        async () => (await database.db.selectFrom('log_leaves').selectAll().execute()).length === 5,
      );
      expect(await fetchJson(keeper, '/healthz')).toEqual({ status: 200, body: { ok: true } });
      const ready = await fetchJson(keeper, '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        ok: true,
        checks: { database: { ok: true }, migrations: { ok: true, detail: 'current' } },
      });

      const metrics = await fetchText(keeper, '/metrics');
      expect(metrics).toMatch(/^fieldproof_sequence_backlog 0$/m);
      expect(metrics).toMatch(/^fieldproof_log_tree_size 5$/m);
      expect(metrics).toMatch(/^fieldproof_sequencer_leaves_total 5$/m);
      expect(metrics).toMatch(/^fieldproof_checkpoints_written_total [1-5]$/m);
      expect(metrics).toMatch(/^fieldproof_sequencer_batch_size_count [1-5]$/m);
      expect(metrics).toMatch(/^fieldproof_oldest_unanchored_leaf_age_seconds \d/m);
      expect((await fetchJson(keeper, '/nope')).status).toBe(404);
    } finally {
      await keeper.stop();
      await keeper.stop(); // idempotent
      await database.close();
    }
    await expect(fetchText(keeper, '/healthz')).rejects.toThrow();
  });

  it('reports the backlog, includes anchoring tasks and readiness, and closes them on stop', async () => {
    const database = await createTestDatabase(engine);
    let anchoringReady = { ok: false, detail: 'rpc down for 20 min' };
    let closed = 0;
    const anchorTask: KeeperTask = {
      name: 'anchorer',
      runOnce: async () => false,
      close: async () => void closed++,
    };
    const anchoring: Anchoring = {
      tasks: [anchorTask],
      readiness: () => anchoringReady,
      close: async () => void closed++,
    };
    const deps = testDeps(database, { KEEPER_POLL_MS: '60000' });
    const keeper = createKeeper({ ...deps, device: testDevice(), anchoring });
    try {
      await keeper.start();
      expect(keeper.tasks.map((t) => t.name)).toEqual(['sequencer', 'anchorer']);
      await addEvidence(database, 4); // the sequencer sleeps 60 s: the backlog stays
      expect(await fetchText(keeper, '/metrics')).toMatch(/^fieldproof_sequence_backlog 4$/m);
      const notReady = await fetchJson(keeper, '/readyz');
      expect(notReady).toMatchObject({
        status: 503,
        body: { ok: false, checks: { anchoring: { ok: false, detail: 'rpc down for 20 min' } } },
      });
      anchoringReady = { ok: true, detail: 'chains ok' };
      expect((await fetchJson(keeper, '/readyz')).status).toBe(200);
    } finally {
      const stopping = performance.now();
      await keeper.stop();
      expect(performance.now() - stopping).toBeLessThan(2_000); // idle sleeps end at once
      await database.close();
    }
    expect(closed).toBe(2);
  });

  it('KEEPER_PROVIDER=collector: no anchoring tasks, one push task per collector, a fleet readiness check', async () => {
    const database = await createTestDatabase(engine);
    const keyFile = path.join(tempDir(), 'push.key');
    fs.writeFileSync(keyFile, 'fp_unused\n', { mode: 0o600 });
    const deps = testDeps(database, {
      KEEPER_POLL_MS: '60000',
      KEEPER_PROVIDER: 'collector',
      KEEPER_RPC_DOWN_READY_MS: '0',
      KEEPER_COLLECTORS: JSON.stringify([
        {
          name: 'fleet',
          url: 'http://127.0.0.1:9',
          apiKeyFile: keyFile,
          witnessKey: createCosigner(generateDeviceKey('collector.test/witness')).verifierKey,
          fleetKey: generateDeviceKey('collector.test/fleet').verifierKey,
        },
      ]),
    });
    const keeper = createKeeper({ ...deps, device: testDevice(), anchoring: createAnchoring(deps) });
    try {
      await keeper.start();
      expect(keeper.tasks.map((t) => t.name)).toEqual(['sequencer', 'collector-push:fleet']);
      const ready = await fetchJson(keeper, '/readyz');
      expect(ready).toMatchObject({
        status: 200,
        body: {
          checks: {
            anchoring: { ok: true, detail: 'anchoring: through the fleet collectors fleet' },
            fleet: { ok: true, detail: 'fleet proofs: fleet: nothing final yet' },
          },
        },
      });
      // What the push task records when a fleet proof is refused (test/fleet-unit.test.ts drives that).
      await recordFleetProofFailure(
        database.db,
        'fleet',
        { error: 'fleet proof of tree size 5 refused: …', nextAttemptAt: 0, stopped: true },
        Date.now(),
      );
      const stopped = await fetchJson(keeper, '/readyz');
      expect(stopped.status).toBe(503);
      const fleet = (stopped.body as { checks: { fleet: { ok: boolean; detail: string } } }).checks.fleet;
      expect(fleet.ok).toBe(false);
      expect(fleet.detail).toContain('fleet: fetching stopped (fleet proof of tree size 5 refused');
    } finally {
      await keeper.stop();
      await database.close();
    }
  });
});

async function fetchJson(keeper: { address: { port: number } | undefined }, path: string) {
  const res = await fetch(`http://127.0.0.1:${keeper.address?.port ?? 1}${path}`);
  const body: unknown = await res.json();
  return { status: res.status, body };
}

async function fetchText(keeper: { address: { port: number } | undefined }, path: string) {
  const res = await fetch(`http://127.0.0.1:${keeper.address?.port ?? 1}${path}`);
  return res.text();
}
