import { loadCollectorSettings, runService } from '@fieldproof/config';
import type { CollectorConfig, RunServiceOptions, Secrets, Service } from '@fieldproof/config';
import { DeviceKeyError } from '@fieldproof/note';
import { createProcessLogger } from '@fieldproof/config/observability';
import { startCollector } from './start-collector.js';
import { FleetRefusedError } from './fleet/fleet-refused-error.js';

/**
 * The collector as `runService` runs it (apps/collector, `fieldproof collector`): its own settings
 * (COLLECTOR_*, and KEEPER_* for fleet anchoring: `loadCollectorSettings`), then `startCollector`. A witness key it cannot use, or a fleet
 * signer key it cannot use, is the operator's to fix: no restart helps.
 */
export const collectorService: Service<{ readonly config: CollectorConfig; readonly secrets: Secrets }> = {
  name: 'collector',
  listenSettings: 'COLLECTOR_HOST / COLLECTOR_PORT',
  refusals: [DeviceKeyError, FleetRefusedError],
  loadSettings: (env, cwd) => loadCollectorSettings(env, cwd),
  createLogger: (config) => createProcessLogger('collector', config.logLevel),
  start: ({ config, secrets, logger }) => startCollector(config, { logger, secrets }),
};

/** The collector process from the environment to its exit status (EXIT_STATUS): what apps/collector runs. */
export function runCollector(options: RunServiceOptions): Promise<number> {
  return runService(collectorService, options);
}
