import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@fieldproof/config';
import { getCollectorPushState, getLatestCheckpoint, listCollectorCosignatures } from '@fieldproof/db';
import { createCollectorPusher, createSequencer } from '@fieldproof/keeper';
import type { CollectorPusher, KeeperDeps } from '@fieldproof/keeper';
import { createCosigner, generateDeviceKey, verifyCosignature } from '@fieldproof/note';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countDeviceLeaves, revokeDevice } from '../../collector/src/index.js';
import { collectorDatabaseUrl, createTestCollector, devicePath } from '../../collector/test/support.js';
import type { TestCollector } from '../../collector/test/support.js';
import { createTestApi } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { tempDir, testEngines } from '../../../test/support/databases.js';
import { startTcpProxy } from '../../../test/support/tcp-proxy.js';
import type { TcpProxy } from '../../../test/support/tcp-proxy.js';
import { silentLogger, testDevice } from './support.js';

/**
 * The unit's side of the fleet collector (issue 15): a unit (the api taking evidence, the keeper's
 * sequencer signing checkpoints) pushing to a real collector listening on a real port, on a real
 * database of each engine, through a TCP proxy that can take the collector "down".
 */
describe.each(testEngines())('keeper pushes to a fleet collector (%s)', (engine) => {
  const ORIGIN = 'fieldproof.test/log/push-unit';
  let unit: TestApi;
  let collector: TestCollector;
  let proxy: TcpProxy;
  let clock: number;
  let deps: KeeperDeps;
  let keyFile: string;
  let sequencer: ReturnType<typeof createSequencer>;
  const device = testDevice(ORIGIN);
  let requests = 0;
  const counting: typeof fetch = (input, init) => {
    requests++;
    return fetch(input, init);
  };

  beforeEach(async () => {
    clock = 1_765_000_000_000;
    // Load shedding is not under test here (the in-process collector shares the event loop).
    unit = await createTestApi(engine, { API_MAX_EVENT_LOOP_DELAY_MS: '0' }, { now: () => clock });
    collector = await createTestCollector(await collectorDatabaseUrl(engine), { now: () => clock });
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    proxy = await startTcpProxy({ port: (collector.app.server.address() as AddressInfo).port });
    const pushKey = await collector.enroll({ origin: ORIGIN, key: { verifierKey: device.verifierKey } });
    keyFile = path.join(tempDir('fieldproof-push-key-'), 'collector.key');
    fs.writeFileSync(keyFile, `${pushKey}\n`, { mode: 0o600 });
    deps = keeperDeps(collector.cosigner.verifierKey);
    sequencer = createSequencer(deps, device);
  });

  afterEach(async () => {
    await proxy.close();
    await collector.close();
    await unit.close();
  });

  afterAll(async () => {});

  function keeperDeps(witnessKey: string, extra: Record<string, string> = {}): KeeperDeps {
    const { config, secrets } = loadConfig(
      {
        API_DB_URL: unit.database.target.url,
        FIELDPROOF_DATA_DIR: unit.dataDir,
        LOG_LEVEL: 'silent',
        KEEPER_SEQUENCE_BATCH_MAX: '4',
        KEEPER_BACKOFF_BASE_MS: '1000',
        KEEPER_BACKOFF_MAX_MS: '60000',
        KEEPER_COLLECTORS: JSON.stringify([
          { name: 'fleet', url: proxy.url, apiKeyFile: keyFile, witnessKey },
        ]),
        ...extra,
      },
      unit.dataDir,
    );
    return {
      database: unit.database,
      config,
      secrets,
      logger: silentLogger,
      registry: new Registry(),
      now: () => clock,
    };
  }

  function pusher(options: Parameters<typeof createCollectorPusher>[2] = {}): CollectorPusher {
    return createCollectorPusher(deps, deps.config.keeper.collectors[0]!, {
      maxLeaves: 5,
      random: () => 1,
      fetch: counting,
      ...options,
    });
  }

  /** Records `n` evidence (every third one raw bytes the unit keeps), then sequences them. */
  async function record(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      clock += 1000;
      if (i % 3 === 1) {
        const bytes = Buffer.from(`raw capture ${i} ${clock}\n`);
        const res = await unit.app.inject({
          method: 'POST',
          url: `/v1/evidence?kind=capture&occurredAt=${clock}&payloadMime=image/png`,
          headers: { ...unit.auth.write, 'content-type': 'application/octet-stream' },
          payload: bytes,
        });
        expect(res.statusCode, res.body).toBe(201);
      } else {
        const res = await unit.app.inject({
          method: 'POST',
          url: '/v1/evidence',
          headers: unit.auth.write,
          payload: {
            kind: 'detection',
            digest: createHash('sha256').update(`${i} ${clock}`).digest('hex'),
            occurredAt: clock,
            metadata: { band: 'L1', n: i },
          },
        });
        expect(res.statusCode, res.body).toBe(201);
      }
    }
    while (await sequencer.runOnce()) clock += 10;
  }

  async function drain(task: CollectorPusher): Promise<void> {
    for (let i = 0; i < 100 && (await task.runOnce()); i++) clock += 10;
  }

  async function collectorHead(): Promise<ApiJson> {
    const res = await collector.app.inject({
      method: 'GET',
      url: devicePath(ORIGIN),
      headers: { authorization: `Bearer ${fs.readFileSync(keyFile, 'utf8').trim()}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<ApiJson>();
  }

  async function collectorsView(): Promise<ApiJson> {
    const res = await unit.app.inject({ method: 'GET', url: '/v1/collectors', headers: unit.auth.read });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<ApiJson>();
  }

  async function expectMirrored(): Promise<void> {
    const latest = (await getLatestCheckpoint(unit.database.db))!;
    const head = await collectorHead();
    expect(head.treeSize).toBe(Number(latest.tree_size));
    expect(head.rootHash).toBe(latest.root_hash);
    const device = await collector.collector.db
      .selectFrom('devices')
      .select('id')
      .where('origin', '=', ORIGIN)
      .executeTakeFirstOrThrow();
    expect(await countDeviceLeaves(collector.collector.db, device.id)).toBe(Number(latest.tree_size));
    // Every cosignature the unit stored verifies under the witness key, over the unit's own checkpoint.
    const cosignatures = await listCollectorCosignatures(unit.database.db, 'fleet');
    expect(cosignatures.at(-1)!.treeSize).toBe(Number(latest.tree_size));
    for (const c of cosignatures) {
      const note = await unit.database.db
        .selectFrom('log_checkpoints')
        .select('signed_note')
        .where('tree_size', '=', c.treeSize)
        .executeTakeFirstOrThrow();
      expect(
        verifyCosignature(note.signed_note + c.cosignature, collector.cosigner.verifierKey).timestamp,
      ).toBe(c.cosignedAt);
    }
  }

  it('mirrors every leaf, record and content file in bounded batches; roots equal, cosignatures stored', async () => {
    await record(14); // checkpoints of 4, 8, 12, 14
    const task = pusher();
    await drain(task);
    await expectMirrored();
    // Bounded: ≤ 5 leaves a push and each ends at a stored checkpoint → 4, 8, 12, 14.
    expect((await listCollectorCosignatures(unit.database.db, 'fleet')).map((c) => c.treeSize)).toEqual([
      4, 8, 12, 14,
    ]);
    // Raw-bytes content is on the collector, byte for byte.
    const raw = await unit.database.db
      .selectFrom('evidence')
      .select('digest')
      .where('source', '=', 'bytes')
      .execute();
    expect(raw.length).toBe(5);
    for (const { digest } of raw) {
      const mirrored = path.join(
        collector.config.dataDir,
        'content',
        digest.slice(0, 2),
        digest.slice(2, 4),
        digest,
      );
      expect(createHash('sha256').update(fs.readFileSync(mirrored)).digest('hex')).toBe(digest);
    }
    const view = await collectorsView();
    expect(view.collectors).toEqual([
      expect.objectContaining({
        name: 'fleet',
        ackedTreeSize: 14,
        lagLeaves: 0,
        lagSeconds: 0,
        lastError: null,
        stopped: false,
      }),
    ]);
    // Caught up: the next round is a plain read, no network.
    const before = requests;
    expect(await task.runOnce()).toBe(false);
    expect(requests).toBe(before);
    const metrics = await deps.registry.getSingleMetricAsString('fieldproof_collector_lag_leaves');
    expect(metrics).toContain('fieldproof_collector_lag_leaves{collector="fleet"} 0');
  });

  it('backs off while the collector is down, then catches up', async () => {
    await record(6);
    const task = pusher();
    await drain(task);
    await record(9); // 15 leaves now; the collector holds 6
    proxy.pause('refuse');
    expect(await task.runOnce()).toBe(false);
    let state = (await getCollectorPushState(unit.database.db, 'fleet'))!;
    expect(state).toMatchObject({ ackedTreeSize: 6, attempts: 1, stopped: false });
    expect(state.lastError).toMatch(/fetch failed|ECONNREFUSED|socket/i);
    expect(state.nextAttemptAt).toBe(clock + 1000); // backoffDelay(1, 1000, …) with jitter 1 → 1000
    // Before the backoff elapses: no attempt at all.
    const before = requests;
    expect(await task.runOnce()).toBe(false);
    expect(requests).toBe(before);
    clock += 1000;
    expect(await task.runOnce()).toBe(false);
    state = (await getCollectorPushState(unit.database.db, 'fleet'))!;
    expect(state.attempts).toBe(2);
    expect(state.nextAttemptAt).toBe(clock + 2000);
    const view = await collectorsView();
    expect(view.collectors).toEqual([
      expect.objectContaining({
        ackedTreeSize: 6,
        lagLeaves: 9,
        stopped: false,
        lastError: expect.any(String) as string,
      }),
    ]);
    expect((view.collectors as ApiJson[])[0]!.lagSeconds).toBeGreaterThan(0);
    proxy.resume();
    clock += 2000;
    await drain(task);
    await expectMirrored();
    state = (await getCollectorPushState(unit.database.db, 'fleet'))!;
    expect(state).toMatchObject({ ackedTreeSize: 15, attempts: 0, lastError: undefined });
  });

  it('a crash between the push and storing its ack: the next round adopts what the collector holds, nothing twice', async () => {
    await record(8);
    // The collector stores the push, but the unit never sees the answer (the process died).
    let lose = true;
    const crashing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      await res.clone().text();
      if (lose && init?.method === 'POST') {
        lose = false;
        throw new Error('keeper killed before storing the ack');
      }
      return res;
    };
    const first = pusher({ fetch: crashing, maxLeaves: 100 });
    expect(await first.runOnce()).toBe(false);
    expect((await getCollectorPushState(unit.database.db, 'fleet'))!.ackedTreeSize).toBe(0);
    expect((await collectorHead()).treeSize).toBe(8);
    // A fresh keeper (restart): resumes from the collector's word.
    clock += 60_000;
    const restarted = pusher({ maxLeaves: 100 });
    await drain(restarted);
    expect((await getCollectorPushState(unit.database.db, 'fleet'))!).toMatchObject({
      ackedTreeSize: 8,
      lastError: undefined,
    });
    // A push delivered twice (a re-send after a lost answer) is stored once; the second answer cosigns.
    await record(3);
    const twice: typeof fetch = async (input, init) => {
      if (init?.method === 'POST') await (await fetch(input, init)).text();
      return fetch(input, init);
    };
    await drain(pusher({ fetch: twice, maxLeaves: 100 }));
    await expectMirrored();
    const leaves = await collector.collector.db
      .selectFrom('device_leaves')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(leaves.n)).toBe(11);
  });

  it('refuses a cosignature that does not verify under the configured witness key, and stops', async () => {
    const other = createCosigner(generateDeviceKey('collector.test/witness'));
    deps = keeperDeps(other.verifierKey);
    await record(5);
    const task = pusher();
    expect(await task.runOnce()).toBe(false);
    const state = (await getCollectorPushState(unit.database.db, 'fleet'))!;
    expect(state.stopped).toBe(true);
    expect(state.lastError).toMatch(/cosignature of tree size 5 refused/);
    expect(await listCollectorCosignatures(unit.database.db)).toEqual([]);
    const view = await collectorsView();
    expect(view.collectors).toEqual([
      expect.objectContaining({
        name: 'fleet',
        stopped: true,
        lastError: expect.stringMatching(/refused/) as string,
      }),
    ]);
    // Stopped: no more pushes from this keeper.
    clock += 3_600_000;
    const before = requests;
    expect(await task.runOnce()).toBe(false);
    expect(requests).toBe(before);
  });

  it('a refusal no retry fixes (the unit revoked on the collector: 401) stops pushing and is shown', async () => {
    await record(4);
    const task = pusher();
    await drain(task);
    await revokeDevice(collector.collector.db, ORIGIN, 2);
    await record(4);
    expect(await task.runOnce()).toBe(false);
    const state = (await getCollectorPushState(unit.database.db, 'fleet'))!;
    expect(state).toMatchObject({ ackedTreeSize: 4, stopped: true, attempts: 1 });
    expect(state.lastError).toMatch(/401 FP_UNAUTHORIZED/);
    clock += 3_600_000;
    const before = requests;
    expect(await task.runOnce()).toBe(false);
    expect(requests).toBe(before);
    const view = await collectorsView();
    expect(view.collectors).toEqual([
      expect.objectContaining({ ackedTreeSize: 4, lagLeaves: 4, stopped: true }),
    ]);
  });
});
