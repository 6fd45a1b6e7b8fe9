import { destination, pino } from 'pino';
import type { Logger } from 'pino';
import { collectDefaultMetrics } from 'prom-client';
import type { Registry } from 'prom-client';
import type { LogLevel } from './load-config.js';

/**
 * One naming scheme for what the three long-running processes say about themselves (docs/ARCHITECTURE.md
 * "Logs and metrics"): the logger every one of them creates, its named subsystem loggers, and the
 * default Node metrics. `@fieldproof/config/observability`, a subpath of its own so that a CLI command
 * that only reads its settings never loads pino or prom-client. (atproto packages/pds/src/logger.ts.)
 *
 * - Every log line carries `service: "fieldproof-<process>"` and `pid`; a line of a subsystem also
 *   `component: "<subsystem>"` (see `componentLogger`).
 * - Default Node metrics (process_*, nodejs_*) are prefixed `fieldproof_<process>_`, as every metric
 *   of ours is: `fieldproof_api_process_resident_memory_bytes`, `fieldproof_keeper_nodejs_eventloop_lag_p99_seconds`.
 */

/** The processes that run for long and log: the names in `fieldproof-<name>` and `fieldproof_<name>_`. */
export type ProcessName = 'api' | 'keeper' | 'collector';

/**
 * Subsystems whose lines carry `component` (`anchor`: the keeper's anchoring, one child per chain adds
 * `chain`; `push`: the keeper pushing its log to a collector, with `collector`; `fleet`: the keeper fetching
 * its fleet proofs back from a collector, with `collector`). A keeper task's lines
 * carry `task` (its name) instead. A name here is a log value operators filter on: add one rather than
 * invent a field.
 */
export const COMPONENTS = ['anchor', 'push', 'fleet'] as const;
export type Component = (typeof COMPONENTS)[number];

/**
 * Paths pino blanks out wherever they appear in a log line: credentials and key material never reach
 * the log. Nothing logs them on purpose; this is the net under a mistake. Covers the api's bearer keys
 * (headers), the collector's push keys (bearer keys too) and the keeper's signer and device keys.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'headers.authorization',
  '*.headers.authorization',
  ...['authorization', 'key', 'secret', 'secrets', 'deviceKey', 'signerKey', 'privateKey', 'seed'].flatMap(
    (k) => [k, `*.${k}`],
  ),
];

export interface ProcessLoggerOptions {
  /** Where the JSON lines go. Default: stdout, written asynchronously (see below). */
  readonly stream?: NodeJS.WritableStream;
}

/**
 * A process's logger: pino JSON lines, `service` and `pid` on each, credentials redacted. On stdout the
 * lines are written asynchronously (one request line each would otherwise be one blocking write each);
 * pino flushes what is pending when the process exits, so only a kill -9 can lose the last lines —
 * never data, which is in the database.
 */
export function createProcessLogger(
  name: ProcessName,
  level: LogLevel,
  options: ProcessLoggerOptions = {},
): Logger {
  return pino(
    {
      level,
      base: { service: `fieldproof-${name}`, pid: process.pid },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    },
    options.stream ?? destination({ dest: 1, sync: false }),
  );
}

/** The logger of one subsystem: its lines carry `component`, besides whatever `fields` name. */
export function componentLogger(
  logger: Logger,
  component: Component,
  fields: Record<string, unknown> = {},
): Logger {
  return logger.child({ component, ...fields });
}

/** Node's default metrics (memory, CPU, event loop, GC) in `registry`, named `fieldproof_<name>_…`. */
export function collectProcessMetrics(registry: Registry, name: ProcessName): void {
  collectDefaultMetrics({ register: registry, prefix: `fieldproof_${name}_` });
}
