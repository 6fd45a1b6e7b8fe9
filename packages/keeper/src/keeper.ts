import type { AddressInfo } from 'node:net';
import { assertMigrationsCurrent } from '@fieldproof/db';
import type { Anchoring } from './anchor/stub-anchoring.js';
import type { DeviceIdentity } from './device/device-identity.js';
import { createHealthServer } from './health/health-server.js';
import type { Readiness } from './health/health-server.js';
import { registerLogGauges } from './health/keeper-metrics.js';
import { createMaintenance } from './maintenance/maintenance.js';
import type { Maintenance } from './maintenance/maintenance.js';
import { createSequencer } from './sequencer/sequencer.js';
import type { KeeperDeps, KeeperTask } from './task.js';
import { createTaskRunner } from './task-runner.js';
import { createCollectorPusher } from './collector/collector-pusher.js';
import type { TaskRunner } from './task-runner.js';

/** What `createAnchoring(deps)` in `./anchor/` provides (a type only: this module loads no anchoring code). */
export type { Anchoring };

export interface KeeperProcessDeps extends KeeperDeps {
  readonly device: DeviceIdentity;
  /** Anchoring (`createAnchoring(deps)`); without it the keeper sequences and signs but anchors nothing. */
  readonly anchoring?: Anchoring;
}

export interface Keeper {
  /** Every task the keeper runs: the sequencer first, then the anchoring tasks, then one push per collector. */
  readonly tasks: readonly KeeperTask[];
  readonly maintenance: Maintenance;
  /** The health server's bound address, once started. */
  readonly address: AddressInfo | undefined;
  /** Binds the health server, schedules maintenance, starts one loop per task. */
  start(): Promise<void>;
  /**
   * Stops every loop (idle sleeps end at once) and awaits in-flight rounds, closes the tasks and the
   * anchoring, waits for a running maintenance job, closes the health server. Does not close the
   * database: whoever opened it does. Safe to call more than once.
   */
  stop(): Promise<void>;
}

/** How long a readiness probe waits for the database before calling it unreachable. */
const READINESS_TIMEOUT_MS = 2_000;
/** Task-loop errors back off from config.keeper.backoffBaseMs up to this cap (or backoffMaxMs if lower). */
const TASK_BACKOFF_CAP_MS = 60_000;

/**
 * The keeper: the sequencer and the anchoring tasks, each in its own loop (see `createTaskRunner`), plus
 * scheduled maintenance and the health server (`/healthz`, `/readyz`, `/metrics`) on
 * `config.keeper.host:port`.
 */
export function createKeeper(deps: KeeperProcessDeps): Keeper {
  const { database, config, logger, registry, anchoring } = deps;
  const pushers = config.keeper.collectors.map((target) => createCollectorPusher(deps, target));
  const fleets = pushers.flatMap((p) => (p.fleet === undefined ? [] : [p.fleet]));
  const tasks: KeeperTask[] = [createSequencer(deps, deps.device), ...(anchoring?.tasks ?? []), ...pushers];
  const maintenance = createMaintenance(deps);
  registerLogGauges(registry, deps);
  const runners: TaskRunner[] = tasks.map((task) =>
    createTaskRunner(task, {
      logger,
      pollMs: config.keeper.pollMs,
      errorBackoff: {
        baseMs: config.keeper.backoffBaseMs,
        maxMs: Math.min(config.keeper.backoffMaxMs, TASK_BACKOFF_CAP_MS),
      },
    }),
  );
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let address: AddressInfo | undefined;

  const health = createHealthServer({
    host: config.keeper.host,
    port: config.keeper.port,
    registry,
    logger,
    readiness: async () => {
      const checks: Record<string, Readiness> = {};
      if (stopping) checks.keeper = { ok: false, detail: 'stopping' };
      checks.database = await probe(async () => {
        await database.rawQuery('SELECT 1 AS ok');
        return 'reachable';
      });
      checks.migrations = await probe(async () => {
        await assertMigrationsCurrent(database);
        return 'current';
      });
      if (anchoring !== undefined) {
        checks.anchoring = await probe(async () => {
          const r = anchoring.readiness();
          if (!r.ok) throw new Error(r.detail);
          return r.detail;
        });
      }
      if (fleets.length > 0) {
        // Fleet proofs: one collector failing is not fatal while another still delivers, unless this
        // unit anchors through the collectors alone (KEEPER_PROVIDER=collector), where any stop is.
        checks.fleet = await probe(async () => {
          const states = await Promise.all(fleets.map((f) => f.readiness()));
          const detail = `fleet proofs: ${states.map((s) => s.detail).join('; ')}`;
          const ok =
            config.keeper.provider === 'collector' ? states.every((s) => s.ok) : states.some((s) => s.ok);
          if (!ok) throw new Error(detail);
          return detail;
        });
      }
      return checks;
    },
  });

  async function shutdown(): Promise<void> {
    stopping = true;
    await Promise.all(runners.map((r) => r.stop()));
    for (const task of tasks) {
      try {
        await task.close?.();
      } catch (err) {
        logger.error({ err, task: task.name }, 'closing a task failed');
      }
    }
    await anchoring?.close();
    await maintenance.stop();
    await health.close();
  }

  return {
    tasks,
    maintenance,
    get address() {
      return address;
    },
    async start() {
      address = await health.listen();
      maintenance.start();
      for (const runner of runners) runner.start();
      logger.info(
        {
          tasks: tasks.map((t) => t.name),
          maintenance: maintenance.jobs,
          health: `${address.address}:${address.port}`,
        },
        'keeper started',
      );
    },
    stop() {
      stopped ??= shutdown();
      return stopped;
    },
  };
}

async function probe(check: () => Promise<string>): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)),
      READINESS_TIMEOUT_MS,
    );
  });
  try {
    return { ok: true, detail: await Promise.race([check(), timeout]) };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
