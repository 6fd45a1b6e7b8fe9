import { destination, pino } from 'pino';
import type { Logger } from 'pino';
import type { LogLevel } from '@fieldproof/config';

/** Paths pino blanks out wherever they appear in a log line: credentials never reach the log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'authorization',
  '*.authorization',
  'key',
  '*.key',
  'secret',
  '*.secret',
];

/**
 * The api's logger: pino JSON lines on stdout, secrets redacted. Written asynchronously (one request
 * line each would otherwise be one blocking write each); pino flushes what is pending when the process
 * exits, so only a kill -9 can lose the last lines — never data, which is in the database.
 */
export function createApiLogger(level: LogLevel): Logger {
  return pino(
    {
      level,
      base: { service: 'fieldproof-api', pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination({ dest: 1, sync: false }),
  );
}
