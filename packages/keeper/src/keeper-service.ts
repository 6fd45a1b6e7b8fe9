import { legacyMoveMessage, loadConfig, moveLegacyData, runService } from '@fieldproof/config';
import type { RunServiceOptions, Service } from '@fieldproof/config';
import { collectProcessMetrics, createProcessLogger } from '@fieldproof/config/observability';
import { openMigratedDatabase } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { DeviceKeyError } from '@fieldproof/note';
import { Registry } from 'prom-client';
import { loadAnchoring } from './anchor/load-anchoring.js';
import { SignerKeyError } from './chain/signer-key-error.js';
import { DeviceIdentityError, openDeviceIdentity } from './device/device-identity.js';
import { createKeeper } from './keeper.js';
import type { Keeper } from './keeper.js';
import { MaintenanceConfigError } from './maintenance/maintenance.js';

/**
 * The keeper as `runService` runs it (apps/keeper, `fieldproof keeper`). `start` opens and migrates the
 * database, opens the device identity, warns when no chain is configured, composes sequencer + anchoring
 * and starts them; `close` stops them (awaiting in-flight work) and closes the database.
 */
export const keeperService: Service = {
  name: 'keeper',
  loadSettings: loadConfig,
  listenSettings: 'KEEPER_HTTP_HOST / KEEPER_HTTP_PORT',
  // A key, the origin or a maintenance setting the operator must fix first: no restart helps.
  refusals: [DeviceIdentityError, DeviceKeyError, MaintenanceConfigError, SignerKeyError],
  createLogger: (config, stdout) => createProcessLogger('keeper', config.logLevel, { stream: stdout }),
  async start({ config, secrets, logger }) {
    const now = Date.now;
    let database: Database | undefined;
    let keeper: Keeper | undefined;
    try {
      database = await openMigratedDatabase(config.database.target, {
        sqlite: config.database.sqlite,
        migrate: {
          now,
          onApplied: (m) => logger.info({ version: m.version, name: m.name }, 'migration applied'),
        },
      });
      // Before the key is opened: a key left in the old default place must not be replaced by a new one.
      for (const move of moveLegacyData(config)) logger.warn(move, legacyMoveMessage(move));
      const device = await openDeviceIdentity({ database, config, secrets, now });
      logger.info(
        {
          origin: device.origin,
          verifierKey: device.verifierKey,
          keySource: device.source.kind,
          ...(device.source.kind === 'file'
            ? { keyFile: device.source.path, created: device.source.created }
            : {}),
        },
        device.source.kind === 'file' && device.source.created ? 'device key created' : 'device key loaded',
      );
      const registry = new Registry();
      collectProcessMetrics(registry, 'keeper');
      const deps = { database, config, secrets, logger, registry, now };
      keeper = createKeeper({ ...deps, device, anchoring: await loadAnchoring(deps) });
      await keeper.start();
    } catch (err) {
      await keeper?.stop().catch(() => undefined);
      await database?.close().catch(() => undefined);
      throw err;
    }
    const started = { keeper, database };
    let closing: Promise<void> | undefined;
    return {
      close() {
        closing ??= (async () => {
          await started.keeper.stop();
          await started.database.close();
          logger.info('keeper stopped');
        })();
        return closing;
      },
    };
  },
};

/** The keeper process from the environment to its exit status (EXIT_STATUS): what apps/keeper runs. */
export function runKeeper(options: RunServiceOptions): Promise<number> {
  return runService(keeperService, options);
}
