// Fleet anchoring (issue 16) on a real local EVM node: a `fieldproof collector` with KEEPER_PROVIDER=evm
// on PostgreSQL, a fleet of simulated units (bench/lib/fleet.mjs) each pushing one signed checkpoint per
// interval, and the collector anchoring its fleet log once per interval (KEEPER_BATCH_MAX_WAIT_MS). Gas
// is read from the receipts of the collector's own anchor transactions on the node.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeAnchorPayload } from '@fieldproof/receipt';
import { CHAIN_ID, SIGNER_KEY, rpc, startHardhat } from './bench-anchoring.mjs';
import { benchPostgresUrl, ownDatabase } from './bench-collector.mjs';
import { FleetUnit, enrollFleet, newStats, pushUnit, seededRandom, startReplicas } from './fleet.mjs';
import { ratio } from './report.mjs';
import { waitFor } from './servers.mjs';

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, units: number, intervals: number, intervalMs: number }} size
 */
export async function benchFleetGas(report, size) {
  const section = 'fleet gas';
  const base = benchPostgresUrl(report, section);
  if (base === undefined) return;
  const chain = await startHardhat();
  const signer = (await rpc(chain.url, 'eth_accounts'))[1];
  const db = await ownDatabase(base, `fp_bench_fleet_gas_${process.pid}`);
  const replicas = await startReplicas({
    count: 1,
    dbUrl: db.url,
    dataDir: path.join(size.dir, 'fleet-gas'),
    env: {
      KEEPER_PROVIDER: 'evm',
      KEEPER_CHAINS: JSON.stringify([
        { name: 'local', rpcUrl: chain.url, chainId: CHAIN_ID, confirmations: 1 },
      ]),
      KEEPER_SIGNER_KEY: SIGNER_KEY,
      // One fleet anchor per interval: the batch closes when its oldest leaf is this old.
      KEEPER_BATCH_MAX_WAIT_MS: String(size.intervalMs),
      KEEPER_BATCH_MAX_LEAVES: String(1_000_000),
      KEEPER_POLL_MS: '100',
      KEEPER_CONFIRM_POLL_MS: '250',
    },
  });
  try {
    const units = Array.from({ length: size.units }, (_, i) => new FleetUnit(`bench.test/log/unit-${i}`));
    await enrollFleet(db.url, units);
    const random = seededRandom(1);
    const stats = newStats();
    for (let i = 0; i < size.intervals; i++) {
      const started = performance.now();
      await Promise.all(
        units.map(async (unit) => {
          unit.record(1 + Math.floor(random() * 10));
          await pushUnit(unit, { urls: replicas.urls, witnessKey: replicas.witnessKey, random, stats });
        }),
      );
      await sleep(Math.max(0, size.intervalMs - (performance.now() - started)));
    }
    const checkpoints = stats.pushes;
    // Every pushed checkpoint covered by a mined fleet anchor: the newest anchor's FPA1 tree size reaches
    // the number of fleet leaves (one per pushed checkpoint).
    const mined = async () => {
      const latest = Number(await rpc(chain.url, 'eth_blockNumber'));
      const txs = [];
      for (let n = 1; n <= latest; n++) {
        const block = await rpc(chain.url, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, true]);
        for (const tx of block.transactions) if (tx.from.toLowerCase() === signer.toLowerCase()) txs.push(tx);
      }
      return txs;
    };
    const treeSizeOf = (tx) => decodeAnchorPayload(tx.input).treeSize;
    let txs = [];
    await waitFor(
      'the fleet log anchored up to the last pushed checkpoint',
      async () => {
        txs = await mined();
        return txs.some((tx) => treeSizeOf(tx) >= checkpoints) ? true : undefined;
      },
      { timeoutMs: 120_000, everyMs: 500 },
    );
    let gas = 0;
    const perTx = [];
    for (const tx of txs) {
      const receipt = await rpc(chain.url, 'eth_getTransactionReceipt', [tx.hash]);
      gas += Number(receipt.gasUsed);
      perTx.push(Number(receipt.gasUsed));
    }
    const perCheckpoint = gas / checkpoints;
    // Each unit anchoring its own: one anchor transaction per device checkpoint, of the same FPA1 shape.
    const direct = perTx.reduce((a, b) => a + b, 0) / perTx.length;
    report.add({
      section,
      measure: `gas per device checkpoint, ${size.units} units × ${size.intervals} intervals of ${size.intervalMs / 1000} s, one fleet anchor per interval`,
      value: perCheckpoint,
      unit: 'gas',
      peer: 'each unit anchoring its own (one FPA1 anchor transaction per checkpoint)',
      peerValue: direct,
      ratio: ratio(perCheckpoint, direct),
      target: '≤ 0.01×',
      met: ratio(perCheckpoint, direct) <= 0.01,
      note: `${checkpoints} device checkpoints in ${txs.length} fleet anchor transactions (${Math.round(direct)} gas each on average); gasUsed from eth_getTransactionReceipt`,
    });
  } finally {
    await replicas.stopAll();
    await chain.child.stop();
    await db.drop();
  }
}
