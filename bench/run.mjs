// `npm run bench [-- --quick] [-- --out FILE]`: every figure side by side with a ceiling or a peer measured
// in the same run on the same machine, as a table on stdout and a JSON document. See BENCHMARKS.md.
// Imports the built packages (`npm run bench` builds first). All load goes to 127.0.0.1; every child
// process is killed at the end, on error and on SIGINT/SIGTERM; temporary files live in os.tmpdir().
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, killAll, killAllNow } from './lib/processes.mjs';
import { Report, renderTable, writeJson } from './lib/report.mjs';

const USAGE = `Usage: npm run bench [-- options]      (or: node bench/run.mjs [options] after npm run build)

  --quick          smoke run (seconds): small sizes, one round; checks the benchmark works, not the numbers
  --out FILE       write the JSON here (default bench/results/<timestamp>.json)
  --only LIST      comma-separated sections: startup, merkle, log, receipts, intake, sdcard, postgres, anchoring,
                   collector, fleet, fleet-gas (default: all of these; postgres, collector and fleet* need
                   FIELDPROOF_BENCH_PG_URL or FIELDPROOF_TEST_PG_URL), and offline (the 30-day offline
                   simulation: only when named)
  --cpu-prof       run the api, the keeper and the no-op peer with node --cpu-prof (profiles next to the JSON)
  --keep           keep the temporary folder (databases, logs) and print where it is
  -h, --help       this text`;

const SECTIONS = [
  'startup',
  'merkle',
  'log',
  'receipts',
  'intake',
  'sdcard',
  'postgres',
  'anchoring',
  'collector',
  'fleet',
  'fleet-gas',
];
/** Sections that run only when named in --only (long). */
const NAMED_ONLY = ['offline'];

/** Sizes of a full run (a few minutes on a 2-core machine) and of a smoke run (well under a minute). */
const SIZES = {
  full: {
    startup: { runs: 15 },
    merkle: { leaves: 8_192, proofs: 3_000, rounds: 3 },
    log: {
      leaves: 100_000,
      batchMs: 1_500,
      proofs: 10_000,
      receipts: 3_000,
      coldReceipts: 1_000,
    },
    intake: {
      seconds: 3,
      settleMs: 1_000,
      rounds: 5,
      warmupRequests: 500,
      concurrencies: [1, 16, 64, 128],
      bytesSize: 256 * 1024,
      mixedSeconds: 4,
    },
    sdcard: { seconds: 5, writeConnections: 64, readConnections: 16 },
    postgres: { seconds: 3, rounds: 3, concurrencies: [16, 64, 128], ceilingMs: 3_000, warmupRequests: 500 },
    anchoring: { batches: [1, 100, 10_000], confirmations: 3, blockMs: 1_000, latencyRuns: 3 },
    collector: {
      units: 200,
      rounds: 10,
      batch: 100,
      intervals: [5, 1],
      latencySeconds: 30,
      weekRecords: 60_480,
    },
    offline: { records: 2_592_000, chunk: 20_000 },
    receipts: { records: 2_000, blockTxs: 200 },
    fleet: { runs: 7, confirmations: 3, blockMs: 1_000 },
    'fleet-gas': { units: 200, intervals: 3, intervalMs: 5_000 },
  },
  quick: {
    startup: { runs: 3 },
    merkle: { leaves: 1_024, proofs: 500, rounds: 1 },
    log: { leaves: 3_000, batchMs: 200, proofs: 500, receipts: 200, coldReceipts: 100 },
    intake: {
      seconds: 1,
      settleMs: 300,
      rounds: 1,
      warmupRequests: 0,
      concurrencies: [1, 16, 64],
      bytesSize: 64 * 1024,
      mixedSeconds: 1,
    },
    sdcard: { seconds: 1, writeConnections: 16, readConnections: 4 },
    postgres: { seconds: 1, rounds: 1, concurrencies: [16], ceilingMs: 500, warmupRequests: 0 },
    anchoring: { batches: [1, 20], confirmations: 2, blockMs: 200, latencyRuns: 1 },
    collector: { units: 20, rounds: 2, batch: 50, intervals: [1], latencySeconds: 3, weekRecords: 3_000 },
    offline: { records: 20_000, chunk: 5_000 },
    receipts: { records: 300, blockTxs: 20 },
    fleet: { runs: 1, confirmations: 2, blockMs: 200 },
    'fleet-gas': { units: 20, intervals: 2, intervalMs: 2_000 },
  },
};

function machine() {
  const cpus = os.cpus();
  let commit;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    commit = undefined;
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryTotalMB: Math.round(os.totalmem() / 2 ** 20),
    memoryFreeMB: Math.round(os.freemem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
    tmpdir: os.tmpdir(),
    commit,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const only = values.only === undefined ? SECTIONS : values.only.split(',').map((s) => s.trim());
  const unknown = only.filter((s) => !SECTIONS.includes(s) && !NAMED_ONLY.includes(s));
  if (unknown.length > 0) {
    console.error(
      `bench: unknown section(s) ${unknown.join(', ')}; known: ${[...SECTIONS, ...NAMED_ONLY].join(', ')}`,
    );
    return 2;
  }
  const mode = values.quick ? 'quick' : 'full';
  const sizes = SIZES[mode];
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const out = path.resolve(
    values.out ?? path.join(ROOT, 'bench/results', `${stamp}${values.quick ? '-quick' : ''}.json`),
  );
  const profileDir = path.join(path.dirname(out), `profiles-${stamp}`);
  const nodeArgs = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldproof-bench-'));
  const report = new Report();
  const info = machine();

  let interrupted = false;
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${signal}: stopping every child process`);
    void killAll(1_000).finally(() => {
      if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);

  console.log(`fieldproof bench (${mode}) — ${startedAt.toISOString()}`);
  console.log(
    `machine: ${info.nproc} cpus (${info.cpuModel}), ${info.memoryTotalMB} MB RAM, node ${info.node}, ${info.platform}, load average ${info.loadAverageAtStart.join(' ')}`,
  );
  const started = performance.now();
  const timings = {};
  const phase = async (name, fn) => {
    if (!only.includes(name)) return undefined;
    process.stdout.write(`  ${name} … `);
    const t = performance.now();
    try {
      return await fn();
    } catch (err) {
      report.fail(name, err);
      return undefined;
    } finally {
      await killAll(); // a failed phase must not leave its processes running into the next one
      timings[name] = Math.round(performance.now() - t);
      console.log(`${(timings[name] / 1000).toFixed(1)} s`);
    }
  };

  try {
    await phase('startup', async () =>
      (await import('./lib/bench-startup.mjs')).benchStartup(report, { dir, ...sizes.startup }),
    );
    await phase('merkle', async () =>
      (await import('./lib/bench-merkle.mjs')).benchMerkle(report, sizes.merkle),
    );
    const log = await phase('log', async () =>
      (await import('./lib/bench-log.mjs')).benchLog(report, {
        dir,
        ...sizes.log,
        batches: sizes.intake.concurrencies,
      }),
    );
    await phase('receipts', async () =>
      (await import('./lib/bench-receipts.mjs')).benchReceipts(report, sizes.receipts),
    );
    await phase('intake', async () =>
      (await import('./lib/bench-intake.mjs')).benchIntake(
        report,
        { dir, nodeArgs, ...sizes.intake },
        log?.dbCeiling,
      ),
    );
    await phase('sdcard', async () =>
      (await import('./lib/bench-sdcard.mjs')).benchSdcard(report, { dir, nodeArgs, ...sizes.sdcard }),
    );
    await phase('postgres', async () =>
      (await import('./lib/bench-postgres.mjs')).benchPostgres(report, { dir, nodeArgs, ...sizes.postgres }),
    );
    await phase('anchoring', async () =>
      (await import('./lib/bench-anchoring.mjs')).benchAnchoring(report, {
        dir,
        nodeArgs,
        ...sizes.anchoring,
      }),
    );
    await phase('collector', async () =>
      (await import('./lib/bench-collector.mjs')).benchCollector(report, { dir, ...sizes.collector }),
    );
    await phase('fleet', async () =>
      (await import('./lib/bench-fleet.mjs')).benchFleet(report, { dir, nodeArgs, ...sizes.fleet }),
    );
    await phase('fleet-gas', async () =>
      (await import('./lib/bench-fleet-gas.mjs')).benchFleetGas(report, { dir, ...sizes['fleet-gas'] }),
    );
    await phase('offline', async () =>
      (await import('./lib/bench-offline.mjs')).benchOffline(report, { dir, nodeArgs, ...sizes.offline }),
    );
  } finally {
    await killAll();
    if (values.keep) console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }

  const durationMs = Math.round(performance.now() - started);
  info.loadAverageAtEnd = os.loadavg().map((l) => Number(l.toFixed(2)));
  console.log('');
  for (const line of renderTable(report)) console.log(line);
  const targets = report.rows.filter((r) => r.met !== undefined);
  const missed = targets.filter((r) => !r.met);
  console.log('');
  console.log(
    `targets: ${targets.length - missed.length} of ${targets.length} met${missed.length > 0 ? `; missed: ${missed.map((r) => `${r.section} / ${r.measure.trim()}`).join('; ')}` : ''}`,
  );
  if (report.errors.length > 0) {
    console.log('');
    console.log('errors:');
    for (const e of report.errors) console.log(`  ${e.replace(/\n/g, '\n    ')}`);
  }
  const file = writeJson(out, {
    format: 'fieldproof-bench/v1',
    mode,
    startedAt: startedAt.toISOString(),
    durationMs,
    phaseMs: timings,
    machine: info,
    sizes,
    rows: report.rows,
    details: report.details,
    errors: report.errors,
  });
  console.log('');
  console.log(
    `${mode} run: ${(durationMs / 1000).toFixed(1)} s (load average now ${info.loadAverageAtEnd.join(' ')}); JSON: ${path.relative(process.cwd(), file)}`,
  );
  if (nodeArgs.length > 0) console.log(`cpu profiles: ${path.relative(process.cwd(), profileDir)}`);
  return report.errors.length > 0 ? 1 : 0;
}

process.exitCode = await main();
