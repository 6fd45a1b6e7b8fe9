// `npm run drill [-- options]`: the power-loss drill (docs/DRILL.md), run by vitest on the built CLI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm run drill [-- options]      (or: node test/drill/run-drill.mjs [options] after npm run build)

  --cuts N                 power cuts (default 30, or DRILL_CUTS)
  --synchronous MODE       FULL (default), EXTRA, NORMAL or OFF (or FIELDPROOF_SQLITE_SYNCHRONOUS). At FULL
                           and EXTRA the drill fails on any loss; at NORMAL and OFF it fails if it caught none
  --seed N                 replay the cut moments of an earlier run (its seed is printed)
  --keep                   keep the temporary folder (layer, database, logs) and print where it is
  -h, --help               this text

Needs root, /dev/fuse and python3-fusepy (apt-get install -y python3-fusepy).`;

const { values } = parseArgs({
  options: {
    cuts: { type: 'string' },
    synchronous: { type: 'string' },
    seed: { type: 'string' },
    keep: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const cuts = values.cuts ?? process.env.DRILL_CUTS ?? '30';
if (!/^[1-9]\d*$/.test(cuts)) {
  console.error(`run-drill: --cuts must be a positive whole number, not "${cuts}"\n\n${USAGE}`);
  process.exit(2);
}
const synchronous = (values.synchronous ?? process.env.FIELDPROOF_SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
if (!['FULL', 'EXTRA', 'NORMAL', 'OFF'].includes(synchronous)) {
  console.error(`run-drill: --synchronous must be FULL, EXTRA, NORMAL or OFF, not "${synchronous}"`);
  process.exit(2);
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const result = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/drill/vitest.drill.config.ts'],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      DRILL_CUTS: cuts,
      FIELDPROOF_SQLITE_SYNCHRONOUS: synchronous,
      ...(values.seed === undefined ? {} : { DRILL_SEED: values.seed }),
      ...(values.keep ? { DRILL_KEEP: '1' } : {}),
    },
  },
);
process.exitCode = result.status ?? 1;
