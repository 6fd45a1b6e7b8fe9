import type { LogLevel } from '@fieldproof/config';
import { REDACTED_PATHS } from '@fieldproof/api';
import { destination, pino } from 'pino';
import type { Logger } from 'pino';

/** The collector's logger: pino JSON lines on stdout, with the api's redaction list (push keys are bearer keys). */
export function createCollectorLogger(level: LogLevel): Logger {
  return pino(
    {
      level,
      base: { service: 'fieldproof-collector', pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination({ dest: 1, sync: false }),
  );
}
