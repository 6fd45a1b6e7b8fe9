import { loadConfig, runService } from '@fieldproof/config';
import type { RunServiceOptions, Service } from '@fieldproof/config';
import { createApiLogger } from './logger.js';
import { startApi } from './start-api.js';

/** The api as `runService` runs it (apps/api, `fieldproof api`). */
export const apiService: Service = {
  name: 'api',
  loadSettings: loadConfig,
  listenSettings: 'API_HOST / API_PORT',
  createLogger: (config) => createApiLogger(config.logLevel),
  start: ({ config, logger }) => startApi(config, { logger }),
};

/** The api process from the environment to its exit status (EXIT_STATUS): what apps/api runs. */
export function runApi(options: RunServiceOptions): Promise<number> {
  return runService(apiService, options);
}
