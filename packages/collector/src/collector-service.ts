import { loadCollectorConfig, runService } from '@fieldproof/config';
import type { CollectorConfig, RunServiceOptions, Service } from '@fieldproof/config';
import { DeviceKeyError } from '@fieldproof/note';
import { createProcessLogger } from '@fieldproof/config/observability';
import { startCollector } from './start-collector.js';

/**
 * The collector as `runService` runs it (apps/collector, `fieldproof collector`): its own settings
 * (COLLECTOR_*, `loadCollectorConfig`), then `startCollector`. A witness key it cannot use is the
 * operator's to fix: no restart helps.
 */
export const collectorService: Service<{ readonly config: CollectorConfig }> = {
  name: 'collector',
  listenSettings: 'COLLECTOR_HOST / COLLECTOR_PORT',
  refusals: [DeviceKeyError],
  loadSettings: (env, cwd) => ({ config: loadCollectorConfig(env, cwd) }),
  createLogger: (config) => createProcessLogger('collector', config.logLevel),
  start: ({ config, logger }) => startCollector(config, { logger }),
};

/** The collector process from the environment to its exit status (EXIT_STATUS): what apps/collector runs. */
export function runCollector(options: RunServiceOptions): Promise<number> {
  return runService(collectorService, options);
}
