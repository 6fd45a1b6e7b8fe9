// Start-up of the `fieldproof` command, as ratios to a bare `node -e 0` measured in the same run: the
// CLI loads a command only when it runs, so `--help` should cost little more than node itself, and an
// auditor's `fieldproof verify` of one receipt no more than the verifier's own modules. On a Pi every
// module loaded is felt: the ratio, not the milliseconds, is what holds from one machine to the other.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import { buildReceipt, leafHashOf } from '@fieldproof/receipt';
import { CLI } from './processes.mjs';
import { ratio } from './report.mjs';

/** A valid receipt of a one-leaf log (its inclusion proof is empty: verify's cost is start-up). */
function writeReceipt(dir) {
  const origin = 'bench.example/unit-1';
  const key = generateDeviceKey(origin);
  const content = Buffer.from('bench evidence\n');
  const evidence = {
    id: '0190a4f4-1234-7000-8000-000000000001',
    digest: createHash('sha256').update(content).digest('hex'),
    kind: 'detection',
    occurredAt: 1_750_000_000_000,
    receivedAt: 1_750_000_000_001,
    payloadMime: null,
    metadata: null,
  };
  const note = signCheckpoint({ origin, treeSize: 1, root: leafHashOf(evidence) }, key);
  const receipt = buildReceipt({
    evidence,
    leafIndex: 0,
    inclusionProof: [],
    checkpointNote: note,
    devicePublicKey: key.verifierKey,
  });
  const file = path.join(dir, 'startup-receipt.json');
  fs.writeFileSync(file, JSON.stringify(receipt));
  return file;
}

/** Wall-clock ms of one run, which must exit 0. */
function once(args, cwd) {
  const t = performance.now();
  const result = spawnSync(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t;
  if (result.status !== 0)
    throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, runs: number }} size
 */
export async function benchStartup(report, size) {
  const section = 'startup';
  const receipt = writeReceipt(size.dir);
  const cases = {
    node: ['-e', '0'],
    help: [CLI, '--help'],
    verify: [CLI, 'verify', receipt],
  };
  const times = { node: [], help: [], verify: [] };
  for (const args of Object.values(cases)) once(args, size.dir); // warm the file cache
  // Interleaved, so a change of machine load touches all three alike; the median drops the outliers.
  for (let i = 0; i < size.runs; i++) {
    for (const [name, args] of Object.entries(cases)) times[name].push(once(args, size.dir));
  }
  const node = median(times.node);
  const rows = [
    { name: 'help', measure: '`fieldproof --help`', limit: 3 },
    { name: 'verify', measure: '`fieldproof verify` of one receipt', limit: 5 },
  ];
  for (const { name, measure, limit } of rows) {
    const value = median(times[name]);
    const r = ratio(value, node);
    report.add({
      section,
      measure: `${measure}, median of ${size.runs}`,
      value,
      unit: 'ms',
      peer: '`node -e 0`',
      peerValue: node,
      ratio: r,
      target: `≤ ${limit}× node -e 0`,
      met: r !== undefined && r <= limit,
    });
  }
  report.details.startup = times;
}
