import type { CollectorConfig, Secrets } from '@fieldproof/config';
import { redactUrl } from '@fieldproof/db';
import type { Cosigner } from '@fieldproof/note';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { openCollectorDatabase } from './db/collector-database.js';
import type { CollectorDatabase } from './db/collector-database.js';
import { buildCollectorApp } from './http/build-collector-app.js';
import { createProcessLogger } from '@fieldproof/config/observability';
import { openWitness } from './witness/witness-key.js';
import type { AnchoringOptions } from '@fieldproof/keeper';
import type { FleetLog } from './fleet/fleet-log.js';
import { CollectorMetrics } from './http/collector-metrics.js';

export interface RunningCollector {
  readonly app: FastifyInstance;
  readonly address: string;
  readonly cosigner: Cosigner;
  /** The fleet log, when fleet anchoring is on. */
  readonly fleet: FleetLog | undefined;
  /** Stop accepting, answer the pushes in flight (each commits or rolls back whole), close the database. */
  close(): Promise<void>;
}

/**
 * Opens and migrates the collector's database (safe with several replicas starting at once), opens or
 * creates the witness key, builds the app and listens. Logs `{"msg":"collector listening","address":…}`.
 * On failure it closes whatever it opened before rejecting.
 */
export async function startCollector(
  config: CollectorConfig,
  options: {
    readonly logger?: Logger;
    readonly now?: () => number;
    /** The fleet anchoring's signer key (`loadCollectorSettings`); needed when `config.fleet` is set. */
    readonly secrets?: Secrets;
    /** Test seams of the fleet anchoring. */
    readonly fleetAnchoring?: AnchoringOptions;
  } = {},
): Promise<RunningCollector> {
  const logger = options.logger ?? createProcessLogger('collector', config.logLevel);
  logger.info(
    { database: redactUrl(config.database.target.url), dataDir: config.dataDir },
    'collector starting',
  );
  const cosigner = await openWitness(config.witness.keyFile, config.witness.name);
  const collector: CollectorDatabase = await openCollectorDatabase(config.database.target, {
    sqlite: config.database.sqlite,
    postgresPoolMax: config.database.poolMax,
    migrate: { onApplied: (m) => logger.info({ version: m.version, name: m.name }, 'migration applied') },
  });
  let app: FastifyInstance | undefined;
  let fleet: FleetLog | undefined;
  try {
    const metrics = new CollectorMetrics();
    if (config.fleet !== undefined) {
      // Loaded only here: a collector without fleet anchoring never loads the keeper or ethers.
      const { openFleetLog } = await import('./fleet/fleet-log.js');
      fleet = await openFleetLog({
        config: { ...config, fleet: config.fleet },
        secrets: options.secrets ?? { signerKey: undefined, signerKeyFile: undefined, deviceKey: undefined },
        collector,
        logger,
        registry: metrics.registry,
        now: options.now ?? Date.now,
        ...(options.fleetAnchoring ? { anchoring: options.fleetAnchoring } : {}),
      });
    }
    app = await buildCollectorApp({
      config,
      collector,
      cosigner,
      logger,
      metrics,
      ...(fleet ? { fleet } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    const address = await app.listen({ host: config.host, port: config.port });
    fleet?.start();
    logger.info(
      {
        address,
        witnessKey: cosigner.verifierKey,
        ...(fleet ? { fleetKey: fleet.verifierKey, fleetOrigin: fleet.origin } : {}),
      },
      'collector listening',
    );
    let closing: Promise<void> | undefined;
    const running = app;
    return {
      app,
      address,
      cosigner,
      fleet,
      close() {
        closing ??= (async () => {
          let timer: NodeJS.Timeout | undefined;
          const expired = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs);
          });
          const outcome = await Promise.race([running.close().then(() => 'closed' as const), expired]);
          clearTimeout(timer);
          if (outcome === 'timeout')
            logger.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
          await fleet?.close();
          await collector.close();
          logger.info('collector stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await fleet?.close().catch(() => undefined);
    await collector.close().catch(() => undefined);
    throw err;
  }
}
