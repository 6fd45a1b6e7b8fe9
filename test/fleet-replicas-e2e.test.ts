import fs from 'node:fs';
import path from 'node:path';
import { getCollectorPushState } from '@fieldproof/db';
import { decodeAnchorPayload } from '@fieldproof/receipt';
import type { AnchorBranch, ReceiptV2 } from '@fieldproof/receipt';
import { afterAll, describe, expect, it } from 'vitest';
import { killAtRandom, seededRandom, startReplicas } from '../bench/lib/fleet.mjs';
import type { Replicas } from '../bench/lib/fleet.mjs';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { TEST_PG_URL, dropTestDatabases, freshDatabaseUrl, tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, anchoringEnv, useHardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { PushingUnit } from './support/pushing-unit.js';
import { waitFor } from './support/wait-for.js';

/**
 * Issue 16, "Done when", all of it in one run: a hardhat node; three `fieldproof collector` processes on
 * one PostgreSQL database, anchoring the fleet log (KEEPER_PROVIDER=evm); real units (api, sequencer,
 * push outbox and fleet-proof fetcher) with KEEPER_PROVIDER=collector and no chain configuration, each
 * pushing to its own replica. The units record over several rounds while replicas are SIGKILLed at random
 * and restarted on the same port. Then every record on every unit is `final` in the unit's own view, no
 * fleet checkpoint was mined twice, and with the node stopped every receipt exported from every unit
 * verifies offline with the fleet key, the witness key and the blocks read from the node while it ran.
 */
const SIGNER = HARDHAT_ACCOUNTS[1];
const REPLICAS = 3;
/** Small for `npm test`; FIELDPROOF_FLEET_E2E_UNITS / _ROUNDS for a bigger run. */
const UNITS = Number(process.env.FIELDPROOF_FLEET_E2E_UNITS ?? '3');
const ROUNDS = Number(process.env.FIELDPROOF_FLEET_E2E_ROUNDS ?? '3');
const RECORDS_PER_ROUND = 4;
const fp = (args: string[], env: Record<string, string> = {}) => runNode([FIELDPROOF_BIN, ...args], env);
const blockOf = (b: AnchorBranch) =>
  b.steps.find((s) => s.type === 'block') as { chainId: number; number: number; hash: string };

const node = useHardhatNode();
afterAll(dropTestDatabases);

/**
 * Runs the unit's push outbox (and fleet-proof fetcher) once more. The unit's clock is injected: it jumps
 * past any backoff a failed push (a killed replica) set, so the next try goes out at once.
 */
async function pushAgain(unit: PushingUnit): Promise<void> {
  unit.clock += 60_000;
  await unit.push();
}

describe.skipIf(TEST_PG_URL === '')(
  'fleet anchoring end to end: replicas killed, units final, receipts offline',
  () => {
    it(`${UNITS} KEEPER_PROVIDER=collector units × ${ROUNDS} rounds on ${REPLICAS} collector replicas SIGKILLed at random: all final, each fleet checkpoint anchored once, exports verify with the node stopped`, async () => {
      const seed = Number(process.env.FIELDPROOF_FLEET_SEED ?? String(Date.now() % 2 ** 31));
      console.log(`fleet e2e seed ${seed} (FIELDPROOF_FLEET_SEED=${seed} draws the same random choices)`);
      const random = seededRandom(seed);
      const startBlock = (await node.blockNumber()) + 1;
      const dbUrl = await freshDatabaseUrl('postgres');
      const lines: string[] = [];
      const explain = () => lines.slice(-20).join('\n');
      const replicas: Replicas = await startReplicas({
        count: REPLICAS,
        dbUrl,
        dataDir: tempDir('fieldproof-fleet-e2e-'),
        poolMax: 3,
        env: anchoringEnv(node, SIGNER.privateKey),
        onLine: (i: number, line: string) => {
          if (line.includes('"level":50') || line.includes('"level":40')) lines.push(`replica ${i}: ${line}`);
        },
      });
      const units: PushingUnit[] = [];
      const records = new Map<PushingUnit, string[]>();
      let killer: ReturnType<typeof killAtRandom> | undefined;
      try {
        for (let i = 0; i < UNITS; i++) {
          // Unit i pushes to replica i (mod 3): a killed replica comes back on the same port.
          const unit = new PushingUnit(
            `fieldproof.test/log/fleet-e2e-${i}`,
            {
              url: replicas.urls[i % REPLICAS]!,
              pushKey: '',
              witnessKey: replicas.witnessKey,
              fleetKey: replicas.fleetKey,
            },
            { env: { KEEPER_PROVIDER: 'collector' } }, // no KEEPER_CHAINS, no signer key
          );
          expect(Object.keys(unit.env).filter((k) => /CHAINS|SIGNER|RPC/.test(k))).toEqual([]);
          await unit.enroll(dbUrl);
          await unit.open();
          units.push(unit);
          records.set(unit, []);
        }

        killer = killAtRandom(replicas, {
          count: REPLICAS,
          random,
          minMs: 800,
          spreadMs: 1200,
          pauseMs: 500,
        });
        for (let round = 0; round < ROUNDS; round++) {
          await Promise.all(
            units.map(async (unit) => {
              const made = await unit.record(RECORDS_PER_ROUND, `round ${round}`);
              records.get(unit)!.push(...made.map((r) => r.id));
              const size = records.get(unit)!.length;
              await waitFor(
                `${unit.origin}: round ${round} pushed (tree size ${size})`,
                async () => {
                  await pushAgain(unit);
                  const state = await getCollectorPushState(unit.database.db, 'fleet');
                  return (state?.ackedTreeSize ?? 0) >= size;
                },
                { timeoutMs: 90_000, intervalMs: 100, explain },
              );
            }),
          );
          // The next round only after one more kill: every round records across a SIGKILL.
          await waitFor(`kill ${round + 1}`, () => killer!.made() > round, {
            timeoutMs: 60_000,
            intervalMs: 50,
          });
        }
        // Every record on every unit final, in the unit's own view (its api), as its fetcher stores proofs;
        // replicas are still being killed meanwhile.
        await waitFor(
          'every record on every unit final',
          async () => {
            for (const unit of units) await pushAgain(unit);
            for (const unit of units) {
              for (const id of records.get(unit)!) if ((await unit.statusOf(id)) !== 'final') return false;
            }
            return true;
          },
          { timeoutMs: 90_000, intervalMs: 200, between: () => node.mine(), explain },
        );
        const kills = await killer.stop();
        console.log(`fleet e2e: ${kills.length} SIGKILLs: ${kills.join(', ')}`);
        expect(kills.length).toBeGreaterThanOrEqual(ROUNDS);

        // No fleet checkpoint anchored twice: every FPA1 payload the signer mined is there once.
        const payloads = (await node.transactionsFrom(SIGNER.address, startBlock)).map((tx) => {
          const p = decodeAnchorPayload(tx.input);
          return `${p.origin} ${p.treeSize} ${Buffer.from(p.root).toString('hex')}`;
        });
        console.log(`fleet e2e: ${payloads.length} fleet anchors mined`);
        expect(payloads.length).toBeGreaterThan(0);
        expect(new Set(payloads).size).toBe(payloads.length);

        // Export every unit's receipts; the trusted blocks are read from the node while it runs.
        const dir = tempDir('fieldproof-fleet-e2e-export-');
        const bundles = await Promise.all(
          units.map(async (unit, i) => {
            const bundle = path.join(dir, `unit-${i}.bundle.json`);
            const exported = await fp(['export', '--all', '--out', bundle, '--quiet'], { ...unit.env });
            expect(exported.code, exported.stdout + exported.stderr).toBe(0);
            return bundle;
          }),
        );
        const blocks = new Map<string, string>();
        for (const [i, bundle] of bundles.entries()) {
          const { receipts } = JSON.parse(fs.readFileSync(bundle, 'utf8')) as { receipts: ReceiptV2[] };
          expect(receipts).toHaveLength(ROUNDS * RECORDS_PER_ROUND);
          for (const receipt of receipts) {
            expect(receipt.anchors.length, `${units[i]!.origin}: a receipt with no anchor`).toBeGreaterThan(
              0,
            );
            for (const branch of receipt.anchors) {
              expect(branch).toMatchObject({ via: 'fleet', state: 'final' });
              const block = blockOf(branch);
              const onNode = await node.rpc<{ hash: string }>('eth_getBlockByNumber', [
                `0x${block.number.toString(16)}`,
                false,
              ]);
              blocks.set(`${node.chainId} ${block.number}`, onNode.hash);
            }
          }
        }
        const trusted = path.join(dir, 'blocks.txt');
        fs.writeFileSync(trusted, [...blocks].map(([k, hash]) => `${k} ${hash}`).join('\n') + '\n');
        await node.stop();

        for (const [i, bundle] of bundles.entries()) {
          const verify = await fp([
            'verify',
            bundle,
            '--expect-key',
            units[i]!.device.verifierKey,
            '--witness-key',
            replicas.witnessKey,
            '--fleet-key',
            replicas.fleetKey,
            '--trusted-blocks',
            trusted,
          ]);
          expect(verify.code, verify.stdout + verify.stderr).toBe(0);
          expect(verify.stdout).toMatch(/VERIFIED/);
          if (i === 0) console.log(`[unit 0's export, node stopped]\n${verify.stdout.slice(-800)}`);
        }
        expect(lines.filter((l) => /equivocation|inconsisten/i.test(l))).toEqual([]);
      } finally {
        await killer?.stop();
        for (const unit of units) await unit.close();
        await replicas.stopAll();
      }
    }, 240_000);
  },
);
