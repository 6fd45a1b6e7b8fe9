import fs from 'node:fs';
import path from 'node:path';
import { loadCollectorSettings } from '@fieldproof/config';
import { getFleetProof } from '@fieldproof/db';
import { ANCHOR_STEP_TYPES, verifyReceiptV2Offline } from '@fieldproof/receipt';
import type { AnchorBranch, ReceiptV2 } from '@fieldproof/receipt';
import { describe, expect, it } from 'vitest';
import { createAnchoring } from '../packages/keeper/src/anchor/index.js';
import { startCollector } from '../packages/collector/src/start-collector.js';
import type { RunningCollector } from '../packages/collector/src/start-collector.js';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { TestClock, anchorDeps, driveUntil, jobsOf } from './support/anchor-fixtures.js';
import { TEST_PG_URL, freshDatabaseUrl, tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, anchoringEnv, useHardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { PushingUnit } from './support/pushing-unit.js';
import { waitFor } from './support/wait-for.js';

/**
 * Issue 16 end to end, the unit's side: `fieldproof collector` with fleet anchoring on PostgreSQL and a
 * hardhat node; units with `KEEPER_PROVIDER=collector` and no chain configuration push to it, fetch their
 * fleet proofs back, their records become `final`; a reorg that drops the fleet anchor is re-anchored by
 * the collector and the unit's receipts follow the new anchor; receipts exported from the unit
 * (`fieldproof export`) verify offline with the node stopped (`--trusted-blocks`, `--fleet-key`,
 * `--witness-key`). A unit that anchors on the chain itself and through the collector gets two anchor
 * paths in one receipt, both verifying. (A tampered fleet-proof answer: test/fleet-unit.test.ts.)
 */
const COLLECTOR_SIGNER = HARDHAT_ACCOUNTS[1];
const fp = (args: string[], env: Record<string, string> = {}) => runNode([FIELDPROOF_BIN, ...args], env);

const node = useHardhatNode();

const chainEntry = () => ({ name: 'local', rpcUrl: node.url, chainId: node.chainId, confirmations: 1 });

/** A collector process's settings with fleet anchoring on (the keeper's names), on a fresh database. */
async function startFleetCollector(): Promise<{ running: RunningCollector; dbUrl: string }> {
  const dbUrl = await freshDatabaseUrl('postgres');
  const { config, secrets } = loadCollectorSettings(
    {
      COLLECTOR_DB_URL: dbUrl,
      COLLECTOR_DATA_DIR: tempDir('fieldproof-fleet-collector-'),
      COLLECTOR_PORT: '0',
      LOG_LEVEL: 'silent',
      ...anchoringEnv(node, COLLECTOR_SIGNER.privateKey),
    },
    process.cwd(),
  );
  return { running: await startCollector(config, { secrets }), dbUrl };
}

/** A unit enrolled on the collector (its push key in its key file), opened. */
async function enrolledUnit(
  origin: string,
  running: RunningCollector,
  dbUrl: string,
  env: Record<string, string>,
): Promise<PushingUnit> {
  const unit = new PushingUnit(
    origin,
    {
      url: running.address,
      pushKey: '',
      witnessKey: running.cosigner.verifierKey,
      fleetKey: running.fleet!.verifierKey,
    },
    { env },
  );
  await unit.enroll(dbUrl);
  await unit.open();
  return unit;
}

/** Pushes and fetches until the unit holds a final fleet proof of checkpoint `treeSize` (the chain moves meanwhile). */
async function fleetFinal(unit: PushingUnit, treeSize: number, label: string, differentFrom?: string) {
  return waitFor(
    label,
    async () => {
      await unit.push();
      const proof = await getFleetProof(unit.database.db, 'fleet', treeSize);
      if (proof?.state !== 'final') return undefined;
      return differentFrom === undefined || proof.receipt !== differentFrom ? proof : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 100, between: () => node.mine() },
  );
}

const stepTypes = (b: AnchorBranch) => b.steps.map((s) => s.type);
const txOf = (b: AnchorBranch) => (b.steps.find((s) => s.type === 'anchor-tx') as { txHash: string }).txHash;
const blockOf = (b: AnchorBranch) =>
  b.steps.find((s) => s.type === 'block') as { chainId: number; number: number; hash: string };
/** A proven fleet branch with no consistency step: every anchor step type but the first. */
const FLEET_STEPS = ANCHOR_STEP_TYPES.filter((t) => t !== 'consistency');

describe.skipIf(TEST_PG_URL === '')('units anchored through their collector (PostgreSQL, hardhat)', () => {
  it('a unit anchoring on the chain and through the collector: two anchor paths in one receipt, both verify', async () => {
    const { running, dbUrl } = await startFleetCollector();
    const clock = new TestClock();
    let unit: PushingUnit | undefined;
    let direct: ReturnType<typeof createAnchoring> | undefined;
    try {
      unit = await enrolledUnit('fieldproof.test/log/two-paths', running, dbUrl, {
        KEEPER_PROVIDER: 'evm',
        KEEPER_CHAINS: JSON.stringify([chainEntry()]),
      });
      const records = await unit.record(5, 'two-paths'); // checkpoint of 5
      direct = createAnchoring(
        anchorDeps({
          database: unit.database,
          chains: [chainEntry()],
          signerKey: HARDHAT_ACCOUNTS[2].privateKey,
          clock,
        }),
      );
      const proofs = async () => unit!.database.db.selectFrom('anchor_proofs').select('tx_id').execute();
      await driveUntil(
        direct.tasks,
        async () => {
          await node.mine();
          const jobs = await jobsOf(unit!.database, 'local');
          return (
            jobs.length > 0 &&
            jobs.every((j) => j.state === 'final') &&
            (await proofs()).length === jobs.length
          );
        },
        { clock, label: 'direct anchor final', maxRounds: 60 },
      );
      await fleetFinal(unit, 5, 'fleet proof of 5');
      const receipt = await unit.receiptOf(records[1]!.id);
      expect(receipt.anchors.map((b) => b.via ?? 'direct')).toEqual(['direct', 'fleet']);
      expect(stepTypes(receipt.anchors[0]!)).toEqual(['anchor-tx', 'tx-trie', 'header', 'block']);
      expect(stepTypes(receipt.anchors[1]!)).toEqual(FLEET_STEPS);
      expect(txOf(receipt.anchors[0]!)).not.toBe(txOf(receipt.anchors[1]!));
      const witnessKey = running.cosigner.verifierKey;
      const fleetKey = running.fleet!.verifierKey;
      const offline = verifyReceiptV2Offline(receipt, {
        expectedPublicKey: unit.device.verifierKey,
        witnessKeys: [witnessKey],
        fleetKeys: [fleetKey],
      });
      expect(offline.links.filter((l) => l.status === 'failed')).toEqual([]);
      // Against the node: both anchors canonical.
      const dir = tempDir('fieldproof-two-paths-');
      const file = path.join(dir, 'receipt.json');
      fs.writeFileSync(file, JSON.stringify(receipt));
      const online = await fp([
        'verify',
        file,
        '--expect-key',
        unit.device.verifierKey,
        '--witness-key',
        witnessKey,
        '--fleet-key',
        fleetKey,
        '--rpc',
        node.url,
      ]);
      expect(online.code, online.stdout + online.stderr).toBe(0);
      expect(online.stdout).toMatch(/anchors: 2 of 2 anchor\(s\) verified/);
      console.log(`[two anchor paths, --rpc]\n${online.stdout}`);
    } finally {
      await direct?.close();
      await unit?.close();
      await running.close();
    }
  }, 240_000);

  it('units on KEEPER_PROVIDER=collector go final; a reorg re-anchors and receipts follow; an export verifies with the node stopped', async () => {
    const { running, dbUrl } = await startFleetCollector();
    const units: PushingUnit[] = [];
    try {
      for (const name of ['unit-a', 'unit-b']) {
        // No KEEPER_CHAINS, no signer key: the collector is the only way to a chain.
        units.push(
          await enrolledUnit(`fieldproof.test/log/${name}`, running, dbUrl, { KEEPER_PROVIDER: 'collector' }),
        );
      }
      const recorded = await Promise.all(units.map((u, i) => u.record(10, `collector-only ${i}`))); // 5, 10
      for (const unit of units) await fleetFinal(unit, 10, `${unit.origin}: fleet proof of 10`);
      for (const [i, unit] of units.entries()) {
        for (const r of recorded[i]!) expect(await unit.statusOf(r.id)).toBe('final');
      }
      const unit = units[0]!;
      const records = recorded[0]!;
      const before = (await getFleetProof(unit.database.db, 'fleet', 10))!;
      const first = await unit.receiptOf(records[9]!.id);
      expect(first.anchors).toHaveLength(1);
      expect(first.anchors[0]).toMatchObject({ via: 'fleet', state: 'final' });
      expect(stepTypes(first.anchors[0]!)).toEqual(FLEET_STEPS);

      // A reorg drops the fleet anchor (a chain reset; blocks past its height say it was lost, not lagging).
      await node.rpc('hardhat_reset', []);
      await node.mineBlocks(blockOf(first.anchors[0]!).number + 5);
      const after = await fleetFinal(unit, 10, 'fleet proof of 10 after the re-anchor', before.receipt);
      const followed = await unit.receiptOf(records[9]!.id);
      expect(txOf(followed.anchors[0]!)).not.toBe(txOf(first.anchors[0]!));
      expect(txOf(followed.anchors[0]!)).toBe(txOf((JSON.parse(after.receipt) as ReceiptV2).anchors.at(-1)!));
      for (const r of records) expect(await unit.statusOf(r.id)).toBe('final');
      await fleetFinal(unit, 5, 'fleet proof of 5 after the re-anchor');

      // Export from the unit, stop the node, verify with one trusted block line per anchoring block.
      const dir = tempDir('fieldproof-fleet-export-');
      const bundle = path.join(dir, 'unit-a.bundle.json');
      const exported = await fp(['export', '--all', '--out', bundle, '--quiet'], { ...unit.env });
      expect(exported.code, exported.stdout + exported.stderr).toBe(0);
      const { receipts } = JSON.parse(fs.readFileSync(bundle, 'utf8')) as { receipts: ReceiptV2[] };
      expect(receipts).toHaveLength(10);
      const blocks = new Map<string, string>();
      for (const r of receipts) {
        expect(r.anchors.length).toBeGreaterThan(0);
        for (const b of r.anchors) {
          const block = blockOf(b);
          blocks.set(`${block.chainId} ${block.number}`, block.hash);
        }
      }
      const trusted = path.join(dir, 'blocks.txt');
      fs.writeFileSync(trusted, [...blocks].map(([k, hash]) => `${k} ${hash}`).join('\n') + '\n');
      await node.stop();
      const verify = await fp([
        'verify',
        bundle,
        '--expect-key',
        unit.device.verifierKey,
        '--witness-key',
        running.cosigner.verifierKey,
        '--fleet-key',
        running.fleet!.verifierKey,
        '--trusted-blocks',
        trusted,
      ]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/VERIFIED/);
      console.log(
        `[export from a KEEPER_PROVIDER=collector unit, node stopped]\n${verify.stdout.slice(-1500)}`,
      );
      const impostor = units[1]!.device.verifierKey; // a note key, but not the fleet's
      const wrongFleet = await fp(['verify', bundle, '--fleet-key', impostor, '--trusted-blocks', trusted]);
      expect(wrongFleet.code, wrongFleet.stdout).toBe(1);
      expect(wrongFleet.stdout).toMatch(/failed\s+fleet-checkpoint:/);
    } finally {
      for (const u of units) await u.close();
      await running.close();
    }
  }, 300_000);
});
