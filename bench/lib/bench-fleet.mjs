// Intake → final at the unit through the collector's fleet anchor (issue 16, "Measured"), against direct
// anchoring in the same run on the same chain: one hardhat node (automine + interval blocks, as in the
// anchoring section); unit D — the real api and keeper, KEEPER_PROVIDER=evm, its own signer; unit C — the
// real api and keeper, KEEPER_PROVIDER=collector (no chain, no key), pushing to one `fieldproof collector`
// process with fleet anchoring on PostgreSQL (same chain, same confirmations, its own signer). One record
// at a time, alternately to D and to C: the time from the POST to GET /v1/evidence/:id reading `final` on
// that unit. The fleet path adds the push, the collector's fleet intake, sequencing and anchoring of its
// fleet log, and the unit's fetch of the fleet proof; the chain's share is the same.
import fs from 'node:fs';
import path from 'node:path';
import { benchPostgresUrl, ownDatabase } from './bench-collector.mjs';
import { CHAIN_ID, SIGNER_KEY, rpc, startHardhat } from './bench-anchoring.mjs';
import { digestSource } from './bench-log.mjs';
import { CLI, freePort, runNode, startChild, waitForHttp } from './processes.mjs';
import { ratio } from './report.mjs';
import { createKey, installation, startApi, startKeeper, timeToFinal } from './servers.mjs';

/** Hardhat's dev account #2 (public, local nodes only): the collector's fleet signer. */
const COLLECTOR_SIGNER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a';
const POLL = { KEEPER_POLL_MS: '100', KEEPER_CONFIRM_POLL_MS: '250' };

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, runs: number, confirmations: number, blockMs: number, nodeArgs?: string[] }} size
 */
export async function benchFleet(report, size) {
  const section = 'fleet';
  const base = benchPostgresUrl(report, section);
  if (base === undefined) return;
  const chain = await startHardhat();
  await rpc(chain.url, 'evm_setIntervalMining', [size.blockMs]);
  const chains = JSON.stringify([
    { name: 'local', rpcUrl: chain.url, chainId: CHAIN_ID, confirmations: size.confirmations },
  ]);
  const db = await ownDatabase(base, `fp_bench_fleet_${process.pid}`);
  /** Every process started here, stopped before the database is dropped. */
  const children = [];
  try {
    // The collector, with fleet anchoring: the keeper's settings under the keeper's names.
    const collectorEnv = {
      COLLECTOR_DB_URL: db.url,
      COLLECTOR_DATA_DIR: path.join(size.dir, 'fleet-collector'),
      LOG_LEVEL: 'warn',
      KEEPER_PROVIDER: 'evm',
      KEEPER_CHAINS: chains,
      KEEPER_SIGNER_KEY: COLLECTOR_SIGNER_KEY,
      KEEPER_BATCH_MAX_LEAVES: '1',
      KEEPER_BATCH_MAX_WAIT_MS: '0',
      ...POLL,
    };
    const keys = JSON.parse(await runNode([CLI, 'collector-key', '--json'], collectorEnv));
    const port = await freePort();
    const collectorUrl = `http://127.0.0.1:${port}`;
    const collector = startChild('collector (fleet)', [CLI, 'collector'], {
      env: { ...collectorEnv, COLLECTOR_PORT: String(port) },
    });
    children.push(collector);
    await waitForHttp(`${collectorUrl}/readyz`, collector, 60_000);

    // Unit D: anchors itself.
    const direct = installation(size.dir, 'fleet-direct');
    const directKey = await createKey(direct);
    const directApi = await startApi(direct, { nodeArgs: size.nodeArgs });
    children.push(directApi.child);
    const directKeeper = await startKeeper(direct, {
      nodeArgs: size.nodeArgs,
      env: {
        KEEPER_PROVIDER: 'evm',
        KEEPER_CHAINS: chains,
        KEEPER_SIGNER_KEY: SIGNER_KEY,
        KEEPER_BATCH_MAX_LEAVES: '1',
        KEEPER_BATCH_MAX_WAIT_MS: '0',
        ...POLL,
      },
    });
    children.push(directKeeper.child);

    // Unit C: no chain, no key; enrolled on the collector with `fieldproof devices add`.
    const fleet = installation(size.dir, 'fleet-unit');
    const fleetKey = await createKey(fleet);
    const device = JSON.parse(
      lastJsonLine(await runNode([CLI, 'device', '--json'], fleet.env), 'verifierKey'),
    );
    const enrolled = JSON.parse(
      lastJsonLine(
        await runNode(
          [CLI, 'devices', 'add', '--origin', device.origin, '--key', device.verifierKey, '--json'],
          collectorEnv,
        ),
        'key',
      ),
    );
    const pushKeyFile = path.join(size.dir, 'fleet-unit-push.key');
    fs.writeFileSync(pushKeyFile, `${enrolled.key}\n`, { mode: 0o600 });
    const fleetUnitEnv = {
      KEEPER_PROVIDER: 'collector',
      KEEPER_COLLECTORS: JSON.stringify([
        {
          name: 'fleet',
          url: collectorUrl,
          apiKeyFile: pushKeyFile,
          witnessKey: keys.verifierKey,
          fleetKey: keys.fleetKey,
        },
      ]),
      ...POLL,
    };
    const fleetApi = await startApi(fleet, { nodeArgs: size.nodeArgs, env: fleetUnitEnv });
    children.push(fleetApi.child);
    children.push((await startKeeper(fleet, { nodeArgs: size.nodeArgs, env: fleetUnitEnv })).child);

    const nextDigest = digestSource();
    const finalLatency = (api, key) => timeToFinal(api.url, key, nextDigest());
    const directMs = [];
    const fleetMs = [];
    for (let i = 0; i < size.runs; i++) {
      directMs.push(await finalLatency(directApi, directKey));
      fleetMs.push(await finalLatency(fleetApi, fleetKey));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const fleetMedian = median(fleetMs);
    const directMedian = median(directMs);
    report.add({
      section,
      measure: `intake → final at the unit through the collector (median of ${fleetMs.length})`,
      value: fleetMedian,
      unit: 'ms',
      peer: 'direct anchoring, same chain, same run',
      peerValue: directMedian,
      ratio: ratio(fleetMedian, directMedian),
      note: `POST to GET /v1/evidence/:id reading final on each unit (polled every 20 ms), alternately; ${size.confirmations} confirmations, automine + ${size.blockMs} ms interval blocks; both keepers and the collector with KEEPER_BATCH_MAX_LEAVES=1, KEEPER_BATCH_MAX_WAIT_MS=0, KEEPER_POLL_MS=100, KEEPER_CONFIRM_POLL_MS=250 (the unit's fleet-proof fetch interval); runs through the collector: ${fleetMs.map((l) => Math.round(l)).join(', ')} ms; direct: ${directMs.map((l) => Math.round(l)).join(', ')} ms`,
    });
    report.details.fleet = { fleetMs, directMs, confirmations: size.confirmations, blockMs: size.blockMs };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await chain.child.stop();
    await db.drop().catch(() => undefined);
  }
}

function lastJsonLine(out, field) {
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes(`"${field}"`));
  if (line === undefined) throw new Error(`no JSON line with "${field}" in:\n${out}`);
  return line;
}
