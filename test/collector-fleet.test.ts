import { createCollectorDatabase, listWaitingCheckpoints } from '@fieldproof/collector';
import type { FleetProofPage } from '@fieldproof/collector';
import { fleetDatabaseUrl, loadCollectorSettings } from '@fieldproof/config';
import { createDatabase, parseDatabaseUrl, statusBounds } from '@fieldproof/db';
import { buildReceipt, decodeAnchorPayload, verifyReceiptV2Offline } from '@fieldproof/receipt';
import type { ReceiptV2 } from '@fieldproof/receipt';
import { describe, expect, it } from 'vitest';
import { startCollector } from '../packages/collector/src/start-collector.js';
import type { RunningCollector } from '../packages/collector/src/start-collector.js';
import {
  FleetUnit,
  enrollFleet,
  killAtRandom,
  newStats,
  pushRounds,
  pushUnit,
  seededRandom,
  startReplicas,
} from '../bench/lib/fleet.mjs';
import type { Replicas } from '../bench/lib/fleet.mjs';
import { TEST_PG_URL, freshDatabaseUrl, tempDir, testEngines } from './support/databases.js';
import { HARDHAT_ACCOUNTS, anchoringEnv, useHardhatNode } from './support/hardhat.js';
import { waitFor } from './support/wait-for.js';

/**
 * Issue 16, the collector side: the fleet log. Every device checkpoint a collector cosigns becomes one
 * leaf of the collector's own log, sequenced and anchored by the keeper's code inside `fieldproof
 * collector`; `GET /v1/devices/:origin/fleet-proofs` hands each unit the receipts of its fleet leaves.
 */

const SIGNER = HARDHAT_ACCOUNTS[1];
/** Small for `npm test`; FIELDPROOF_FLEET_UNITS / _ROUNDS for a bigger run. */
const UNITS = Number(process.env.FIELDPROOF_FLEET_UNITS ?? '6');
const ROUNDS = Number(process.env.FIELDPROOF_FLEET_ROUNDS ?? '4');
const REPLICAS = 3;

const node = useHardhatNode();

const fleetEnv = () => anchoringEnv(node, SIGNER.privateKey);

/** Every page of a unit's fleet proofs from `after`. */
async function fleetProofs(
  url: string,
  unit: FleetUnit,
  after?: string,
): Promise<{ entries: FleetProofPage['proofs']; cursor: string; fleetKey: string }> {
  const entries: FleetProofPage['proofs'] = [];
  let cursor = after;
  for (;;) {
    const query = new URLSearchParams({ limit: '3', ...(cursor === undefined ? {} : { after: cursor }) });
    const res = await fetch(
      `${url}/v1/devices/${encodeURIComponent(unit.origin)}/fleet-proofs?${query.toString()}`,
      {
        headers: { authorization: `Bearer ${unit.pushKey}` },
      },
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const page = (await res.json()) as FleetProofPage & { fleetKey: string };
    entries.push(...page.proofs);
    cursor = page.cursor;
    if (!page.more) return { entries, cursor, fleetKey: page.fleetKey };
  }
}

function verifies(receipt: ReceiptV2, fleetKey: string): void {
  const verification = verifyReceiptV2Offline(receipt);
  expect(verification.ok, JSON.stringify(verification.links.filter((l) => l.status === 'failed'))).toBe(true);
  expect(receipt.steps.find((s) => s.type === 'checkpoint')).toMatchObject({ publicKey: fleetKey });
  expect(receipt.anchors.some((a) => a.state === 'final' && a.steps.some((s) => s.type === 'header'))).toBe(
    true,
  );
}

/** Every FPA1 payload mined from the signer since `fromBlock`, as `treeSize:root`. */
async function anchoredPayloads(fromBlock: number): Promise<string[]> {
  const txs = await node.transactionsFrom(SIGNER.address, fromBlock);
  return txs.map((tx) => {
    const payload = decodeAnchorPayload(tx.input);
    return `${payload.treeSize}:${Buffer.from(payload.root).toString('hex')}`;
  });
}

describe.skipIf(TEST_PG_URL === '')('fleet anchoring on PostgreSQL', () => {
  it(`${REPLICAS} collector replicas SIGKILLed at random: every cosigned checkpoint in the fleet log once, gap-free, each fleet checkpoint anchored once, receipts verify`, async () => {
    const seed = Number(process.env.FIELDPROOF_FLEET_SEED ?? String(Date.now() % 2 ** 31));
    console.log(`fleet seed ${seed} (FIELDPROOF_FLEET_SEED=${seed} draws the same random choices)`);
    const random = seededRandom(seed);
    const startBlock = (await node.blockNumber()) + 1;
    const dbUrl = await freshDatabaseUrl('postgres');
    const units = Array.from({ length: UNITS }, (_, i) => new FleetUnit(`fleet.test/log/unit-${i}`));
    await enrollFleet(dbUrl, units);
    const lines: string[] = [];
    const replicas: Replicas = await startReplicas({
      count: REPLICAS,
      dbUrl,
      dataDir: tempDir('fieldproof-fleet-'),
      poolMax: 3,
      env: fleetEnv(),
      onLine: (i: number, line: string) => {
        if (line.includes('"level":50') || line.includes('"level":40')) lines.push(`replica ${i}: ${line}`);
      },
    });
    const fleet = createDatabase(
      parseDatabaseUrl(fleetDatabaseUrl(parseDatabaseUrl(dbUrl, 'test')), 'test'),
      {
        postgresPoolMax: 2,
      },
    );
    const collector = createCollectorDatabase(parseDatabaseUrl(dbUrl, 'test'), { postgresPoolMax: 2 });
    let killer: ReturnType<typeof killAtRandom> | undefined;
    try {
      killer = killAtRandom(replicas, { count: REPLICAS, random, minMs: 300, spreadMs: 900, pauseMs: 400 });
      const stats = await pushRounds(units, {
        rounds: ROUNDS,
        maxRecords: 5,
        pauseMs: 400,
        replicas,
        random,
      });
      // On a fast machine the pushes can end before the second kill: the fleet log is still being
      // sequenced and anchored then, so the kills go on until two were made (a count, not a time).
      await waitFor('two replicas SIGKILLed', () => killer!.made() >= 2, { timeoutMs: 60_000 });
      const kills = await killer.stop();
      console.log(`fleet: ${kills.length} SIGKILLs, ${stats.pushes} pushes, ${stats.retries} retried`);
      expect(kills.length).toBeGreaterThanOrEqual(2);

      // Every cosigned device checkpoint reaches the fleet log, and the fleet log is anchored final.
      const cosigned = await collector.db
        .selectFrom('device_checkpoints')
        .select(['signed_note', 'fleet_leaf_index'])
        .execute();
      const explain = () => lines.slice(-20).join('\n');
      await waitFor(
        'every cosigned checkpoint in the fleet log',
        async () => (await listWaitingCheckpoints(collector.db, 1)).length === 0,
        {
          timeoutMs: 60_000,
          intervalMs: 200,
          explain,
        },
      );
      const leaves = await fleet.db
        .selectFrom('log_leaves')
        .select(['leaf_index', 'evidence_id'])
        .orderBy('leaf_index')
        .execute();
      await waitFor(
        'the whole fleet log anchored final',
        async () => (await statusBounds(fleet.db)).final >= leaves.length,
        {
          timeoutMs: 60_000,
          intervalMs: 200,
          explain,
        },
      );

      // Exactly once: one fleet record per cosigned checkpoint (no more, no fewer), indices 0…n−1.
      const checkpoints = await collector.db
        .selectFrom('device_checkpoints')
        .select(['signed_note', 'fleet_evidence_id', 'fleet_leaf_index'])
        .execute();
      expect(checkpoints.length).toBeGreaterThanOrEqual(cosigned.length);
      const evidence = await fleet.db.selectFrom('evidence').select(['id', 'digest', 'kind']).execute();
      expect(evidence).toHaveLength(checkpoints.length);
      expect(leaves.map((l) => Number(l.leaf_index))).toEqual([...Array(checkpoints.length).keys()]);
      const byId = new Map(leaves.map((l) => [l.evidence_id, Number(l.leaf_index)]));
      for (const c of checkpoints) expect(byId.get(c.fleet_evidence_id!)).toBe(Number(c.fleet_leaf_index));

      // No fleet checkpoint anchored twice on the chain.
      const payloads = await anchoredPayloads(startBlock);
      expect(payloads.length).toBeGreaterThan(0);
      expect(new Set(payloads).size).toBe(payloads.length);

      // Every unit gets a verifying receipt for every checkpoint it pushed, from any replica.
      for (const unit of units) {
        const url = replicas.urls[Math.floor(random() * REPLICAS)]!;
        const { entries, fleetKey } = await fleetProofs(url, unit);
        expect(fleetKey).toBe(replicas.fleetKey);
        const sizes = new Set(entries.map((e) => e.treeSize));
        const pushed = await collector.db
          .selectFrom('device_checkpoints')
          .innerJoin('devices', 'devices.id', 'device_checkpoints.device_id')
          .select('device_checkpoints.tree_size')
          .where('devices.origin', '=', unit.origin)
          .execute();
        expect([...sizes].sort((a, b) => a - b)).toEqual(
          pushed.map((p) => Number(p.tree_size)).sort((a, b) => a - b),
        );
        for (const entry of entries) {
          verifies(entry.receipt, fleetKey);
          // The unit's own receipt of its last record at that size, with the fleet branch: verifies with
          // the fleet key pinned (the v2 verifier's fleet steps).
          const leafIndex = entry.treeSize - 1;
          const unitReceipt = buildReceipt({
            evidence: unit.leaves[leafIndex]!.record,
            leafIndex,
            inclusionProof: unit.tree.inclusionProof(leafIndex, entry.treeSize),
            checkpointNote: unit.checkpoints.get(entry.treeSize)!,
            devicePublicKey: unit.key.verifierKey,
            fleetPaths: [{ via: 'fleet', fleetReceipt: entry.receipt }],
          });
          const verification = verifyReceiptV2Offline(unitReceipt, { fleetKeys: [fleetKey] });
          expect(
            verification.ok,
            JSON.stringify(verification.links.filter((l) => l.status === 'failed')),
          ).toBe(true);
          expect(verification.links.map((l) => l.link)).toEqual(
            expect.arrayContaining([expect.stringMatching(/^fleet-checkpoint:/)]),
          );
        }
      }
      expect(lines.filter((l) => /equivocation|inconsisten/i.test(l))).toEqual([]);
    } finally {
      await killer?.stop();
      await replicas.stopAll();
      await fleet.close();
      await collector.close();
    }
  }, 300_000);
});

/** On both engines: the SQLite fleet database is a sibling file, the PostgreSQL one a schema. */
describe.each(testEngines())('fleet anchoring on %s', (engine) => {
  it('a fleet anchor the chain lost is anchored again, and the route lists the receipt of the new anchor after the cursor', async () => {
    await node.rpc('hardhat_reset', []);
    const dbUrl = await freshDatabaseUrl(engine);
    const unit = new FleetUnit('fleet.test/log/reorged');
    await enrollFleet(dbUrl, [unit]);
    const { config, secrets } = loadCollectorSettings(
      {
        COLLECTOR_DB_URL: dbUrl,
        COLLECTOR_DATA_DIR: tempDir('fieldproof-fleet-'),
        COLLECTOR_PORT: '0',
        LOG_LEVEL: 'silent',
        ...fleetEnv(),
      },
      process.cwd(),
    );
    let running: RunningCollector | undefined;
    try {
      running = await startCollector(config, { secrets });
      const url = running.address;
      const fleet = running.fleet!;
      // The fleet tasks report through the collector: its /readyz and its /metrics.
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { fleet?: string }).fleet).toMatch(/^ok: anchoring: /);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^fieldproof_sequencer_/m);
      expect(metrics).toMatch(/^fieldproof_anchor_/m);
      unit.record(3);
      await pushUnit(unit, {
        urls: [url],
        witnessKey: running.cosigner.verifierKey,
        random: Math.random,
        stats: newStats(),
      });
      const first = await waitFor(
        'a final fleet anchor',
        async () => {
          const { entries, cursor } = await fleetProofs(url, unit);
          return entries.length === 1 ? { entry: entries[0]!, cursor } : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      const lostTx = txHashOf(first.entry.receipt);
      verifies(first.entry.receipt, fleet.verifierKey);

      // The chain is reset (a reorg deeper than finality would do the same): the anchor is gone. Blocks
      // past its height tell the keeper it was lost rather than that the node lags.
      await node.rpc('hardhat_reset', []);
      await node.mineBlocks(10);
      const jobs = () => fleet.database.db.selectFrom('anchor_jobs').select(['state', 'tree_size']).execute();
      await waitFor(
        'the lost anchor re-anchored final',
        async () => {
          const states = (await jobs()).map((j) => j.state).sort();
          return states.includes('lost') && states.includes('final');
        },
        { timeoutMs: 60_000, intervalMs: 100, between: () => node.mine() },
      );

      const next = await fleetProofs(url, unit, first.cursor);
      const latest = next.entries.filter((e) => e.treeSize === 3).at(-1);
      expect(latest, 'listed again after the cursor').toBeDefined();
      verifies(latest!.receipt, fleet.verifierKey);
      expect(txHashOf(latest!.receipt)).not.toBe(lostTx);
      const onChain = await node.transactionsFrom(SIGNER.address, 0);
      expect(onChain.map((t) => t.hash.toLowerCase())).toContain(txHashOf(latest!.receipt).toLowerCase());
    } finally {
      await running?.close();
    }
  }, 180_000);
});

function txHashOf(receipt: ReceiptV2): string {
  const final = receipt.anchors.find((a) => a.state === 'final')!;
  const step = final.steps.find((s) => s.type === 'anchor-tx') as { txHash: string };
  return step.txHash;
}
