import { createProcessLogger } from '@fieldproof/config/observability';
import type { LogLevel } from '@fieldproof/config';
import type { Logger } from 'pino';

/** The api's logger: the one process logger (`@fieldproof/config/observability`) named `fieldproof-api`. */
export function createApiLogger(level: LogLevel): Logger {
  return createProcessLogger('api', level);
}
