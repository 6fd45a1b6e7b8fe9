import type { CollectorConfig, FleetConfig, Secrets } from '@fieldproof/config';
import { createDatabase, openMigratedDatabase, parseDatabaseUrl, redactUrl } from '@fieldproof/db';
import type { CreateDatabaseOptions, Database } from '@fieldproof/db';
import {
  DeviceIdentityError,
  SignerKeyError,
  createAnchoring,
  createSequencer,
  createTaskRunner,
  openDeviceIdentity,
  type AnchoringOptions,
  type KeeperDeps,
  type KeeperTask,
} from '@fieldproof/keeper';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CollectorDatabase } from '../db/collector-database.js';
import { FleetRefusedError } from './fleet-refused-error.js';
import { DeviceKeyError } from '@fieldproof/note';
import { createFleetIntake } from './fleet-intake.js';
import { listFleetProofs } from './fleet-proofs.js';
import type { FleetProofPage } from './fleet-proofs.js';

/** Task-loop errors back off up to this cap (as the keeper's). */
const TASK_BACKOFF_CAP_MS = 60_000;

/**
 * The collector's fleet log, running: the fleet database, its signing identity (the witness key under
 * its own name, with the fleet origin) and the keeper's tasks on it — intake, the sequencer and
 * anchoring — each in its own loop.
 */
export interface FleetLog {
  readonly origin: string;
  /** The fleet log's note verifier key (`<witness name>+<key id>+base64(0x01 ‖ key)`). */
  readonly verifierKey: string;
  readonly database: Database;
  readonly tasks: readonly KeeperTask[];
  /** The anchoring's readiness (a chain halted, failing, out of funds, or a lost anchor not yet covered). */
  readiness(): { ok: boolean; detail: string };
  /** The fleet-proofs feed of one device (docs/COLLECTOR.md, "Fleet anchoring"). */
  listProofs(request: {
    readonly deviceId: string;
    readonly after: string | undefined;
    readonly limit: number;
    readonly now: number;
  }): Promise<FleetProofPage>;
  start(): void;
  /** Stops the loops (awaiting in-flight rounds), the anchoring, and closes the fleet database. */
  close(): Promise<void>;
}

export interface OpenFleetLogOptions {
  readonly config: CollectorConfig & { readonly fleet: FleetConfig };
  readonly secrets: Secrets;
  readonly collector: CollectorDatabase;
  readonly logger: Logger;
  /** The collector's metrics registry: the fleet tasks' metrics join its /metrics. */
  readonly registry: Registry;
  readonly now: () => number;
  /** Test seams of the anchoring (lease owner, kill points). */
  readonly anchoring?: AnchoringOptions;
}

/**
 * Opens (creating and migrating with the unit's migrations) the fleet database, fixes the fleet log's
 * origin and key in it, and composes the tasks. Loaded only when fleet anchoring is on, so a collector
 * without it never loads the keeper.
 */
export async function openFleetLog(options: OpenFleetLogOptions): Promise<FleetLog> {
  const { config, secrets, collector, registry, now } = options;
  const settings = config.fleet.keeper;
  const logger = options.logger.child({ log: 'fleet' });
  const database = await openFleetDatabase(
    settings.database.target,
    {
      sqlite: settings.database.sqlite,
      postgresPoolMax: config.database.poolMax,
    },
    logger,
  );
  try {
    const deps: KeeperDeps = { database, config: settings, secrets, logger, registry, now };
    const identity = await openDeviceIdentity({
      database,
      config: settings,
      secrets: { ...secrets, deviceKey: undefined },
      now,
    });
    const anchoring = createAnchoring(deps, options.anchoring);
    const tasks: KeeperTask[] = [
      createFleetIntake({ collector, fleet: database, logger }),
      createSequencer(deps, identity),
      ...anchoring.tasks,
    ];
    const runners = tasks.map((task) =>
      createTaskRunner(task, {
        logger,
        pollMs: settings.keeper.pollMs,
        errorBackoff: {
          baseMs: settings.keeper.backoffBaseMs,
          maxMs: Math.min(settings.keeper.backoffMaxMs, TASK_BACKOFF_CAP_MS),
        },
      }),
    );
    logger.info(
      {
        origin: identity.origin,
        fleetKey: identity.verifierKey,
        database: redactUrl(settings.database.target.url),
        tasks: tasks.map((t) => t.name),
      },
      'fleet log open',
    );
    let closing: Promise<void> | undefined;
    return {
      origin: identity.origin,
      verifierKey: identity.verifierKey,
      database,
      tasks,
      readiness: () => anchoring.readiness(),
      listProofs: (request) => listFleetProofs(collector, database, request),
      start() {
        for (const runner of runners) runner.start();
      },
      close() {
        closing ??= (async () => {
          await Promise.all(runners.map((r) => r.stop()));
          for (const task of tasks)
            await task.close?.().catch((err: unknown) => logger.error({ err }, 'closing a task failed'));
          await anchoring.close();
          await database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await database.close().catch(() => undefined);
    if (
      err instanceof SignerKeyError ||
      err instanceof DeviceIdentityError ||
      err instanceof DeviceKeyError
    ) {
      throw new FleetRefusedError(`fleet anchoring: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * The fleet database, migrated with the unit's migrations. A PostgreSQL URL whose `options` set a
 * `search_path` (the default: the `fleet` schema of the collector's database) gets that schema created
 * first, under the migration lock, so replicas starting together do not race on it.
 */
async function openFleetDatabase(
  target: ReturnType<typeof parseDatabaseUrl>,
  options: CreateDatabaseOptions,
  logger: Logger,
): Promise<Database> {
  const database = createDatabase(target, options);
  try {
    const schema = target.engine === 'postgres' ? searchPathOf(target.url) : undefined;
    if (schema !== undefined) {
      await database.withMigrationLock((conn) => conn.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`));
    }
    return await openMigratedDatabase(target, {
      existing: database,
      migrate: {
        onApplied: (m) => logger.info({ version: m.version, name: m.name }, 'fleet migration applied'),
      },
    });
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
}

function searchPathOf(url: string): string | undefined {
  const options = new URL(url).searchParams.get('options') ?? '';
  const schema = /search_path=([A-Za-z_][A-Za-z0-9_]*)/.exec(options)?.[1];
  return schema;
}
