// A keeper-like process that only anchors: reads its configuration from the environment like the keeper
// does, migrates, and runs the anchoring tasks (from the built dist) until every outbox job is final or
// ANCHOR_CHILD_TIMEOUT_MS passes. ANCHOR_CHILD_CRASH_AT makes it SIGKILL itself at a named point
// (`after-persist`, `after-broadcast`, `before-proof`), through createAnchoring's atPoint option.
// Prints one JSON line {"jobs":[...states]} on a clean exit.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../../packages/config/dist/index.js';
import { createDatabase, listAnchorJobs, migrate } from '../../packages/db/dist/index.js';
import { createAnchoring } from '../../packages/keeper/dist/anchor/index.js';

const { config, secrets } = loadConfig(process.env);
const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
await migrate(database);
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: true }));
const anchoring = createAnchoring(
  {
    database,
    config,
    secrets,
    logger,
    registry: new Registry(),
    now: Date.now,
  },
  {
    atPoint(point) {
      if (point !== process.env.ANCHOR_CHILD_CRASH_AT) return;
      logger.fatal({ point }, 'ANCHOR_CHILD_CRASH_AT: killing the process');
      process.kill(process.pid, 'SIGKILL');
    },
  },
);
const deadline = Date.now() + Number(process.env.ANCHOR_CHILD_TIMEOUT_MS ?? 20_000);
let jobs = [];
try {
  while (Date.now() < deadline) {
    let busy = false;
    for (const task of anchoring.tasks) busy = (await task.runOnce()) || busy;
    jobs = await listAnchorJobs(database.db);
    if (jobs.length > 0 && jobs.every((j) => j.state === 'final' || j.state === 'dead')) break;
    if (!busy) await new Promise((r) => setTimeout(r, config.keeper.pollMs));
  }
} finally {
  await anchoring.close();
  await database.close();
}
process.stdout.write(
  `${JSON.stringify({ jobs: jobs.map((j) => ({ treeSize: j.tree_size, state: j.state })) })}\n`,
);
