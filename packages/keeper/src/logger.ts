import type { LogLevel } from '@fieldproof/config';
import pino from 'pino';
import type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line, wherever they appear (one level deep): secrets and keys.
 * Nothing logs them on purpose; this is the net under a mistake. A `DeviceKey` logs as its public part.
 */
export const REDACTED_KEYS = ['secrets', 'deviceKey', 'signerKey', 'privateKey', 'seed', 'authorization'];

/** The keeper's pino logger: JSON lines on `stream` (stdout), secrets redacted. */
export function createKeeperLogger(level: LogLevel, stream: NodeJS.WritableStream = process.stdout): Logger {
  return pino(
    {
      level,
      base: { process: 'keeper', pid: process.pid },
      redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`]), censor: '[redacted]' },
    },
    stream,
  );
}
