import { DatabaseNewerThanCodeError, MigrationChecksumError, MigrationFileError } from '@fieldproof/db';
import type { Logger } from 'pino';
import { EXIT_STATUS } from './exit-status.js';
import { configErrorLine } from './load-config.js';
import type { Env, FieldproofConfig, LogLevel, Secrets } from './load-config.js';
import { LegacyDataConflictError } from './move-legacy-data.js';

/** A constructor of errors, for `instanceof` checks. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** A started service: `close` finishes in-flight work and releases everything (idempotent). */
export interface RunningService {
  close(): Promise<void>;
}

/** What `loadConfig` returns: the settings of the api and the keeper. */
export interface UnitSettings {
  readonly config: FieldproofConfig;
  readonly secrets: Secrets;
}

/**
 * A long-running process as `runService` runs it: `@fieldproof/api`'s `apiService`,
 * `@fieldproof/keeper`'s `keeperService` and `@fieldproof/collector`'s `collectorService`. Everything a
 * process does between start and stop is its own; reading the environment, signals, the operator's line
 * and the exit status are `runService`'s. `Settings` is what its loader returns: the unit's config and
 * secrets (`loadConfig`, the default) or the collector's own (`loadCollectorConfig`).
 */
export interface Service<
  Settings extends { readonly config: { readonly logLevel: LogLevel } } = UnitSettings,
> {
  /** `api`, `keeper` or `collector`: names the process in `fieldproof <name>: refusing to start: …`. */
  readonly name: string;
  /** The settings an operator changes when the port is taken, e.g. `API_HOST / API_PORT`. */
  readonly listenSettings: string;
  /**
   * Start-up errors of this service (beside the shared ones: settings, migrations, legacy data) that no
   * restart fixes: exit EXIT_STATUS.refused, and their message is the whole story (no stack logged).
   */
  readonly refusals?: readonly ErrorClass[];
  /** Reads the environment; throws ConfigError (or DatabaseUrlError) naming the variable. */
  loadSettings(env: Env, cwd: string | undefined): Settings;
  createLogger(config: Settings['config'], stdout: NodeJS.WritableStream): Logger;
  /** Opens, migrates and starts. On failure it closes what it opened, then rejects. */
  start(context: Settings & { readonly logger: Logger }): Promise<RunningService>;
}

/** What the api's and the keeper's `start` get. */
export type ServiceContext = UnitSettings & { readonly logger: Logger };

export interface RunServiceOptions {
  readonly env: Env;
  /** Relative paths in the settings resolve against this. Default process.cwd(). */
  readonly cwd?: string;
  /** Log lines. Default process.stdout. */
  readonly stdout?: NodeJS.WritableStream;
  /** The one line of a start-up failure. Default process.stderr. */
  readonly stderr?: NodeJS.WritableStream;
  /** Stop when this aborts instead of on SIGTERM/SIGINT (tests running a service in-process). */
  readonly signal?: AbortSignal;
}

/** Errors every service refuses to start on, whatever it is. */
const SHARED_REFUSALS: readonly ErrorClass[] = [
  LegacyDataConflictError,
  MigrationChecksumError,
  DatabaseNewerThanCodeError,
  MigrationFileError,
];

/**
 * A service process from start to exit, the same for the api, the keeper and the collector: read the settings, create
 * the logger, start, wait for SIGTERM/SIGINT (an AbortController), close, and resolve the exit status of
 * the one table (EXIT_STATUS, README "Exit status"). A start-up failure is one line on stderr —
 * `fieldproof: <setting>: …` for a bad setting, else `fieldproof <name>: refusing to start: …` — with the
 * stack in the log unless the operator must fix it. A second signal while stopping exits at once (1):
 * nothing unacknowledged was promised. Never calls process.exit otherwise: the entry point sets
 * process.exitCode. (atproto services/pds/index.ts.)
 */
export async function runService<Settings extends { readonly config: { readonly logLevel: LogLevel } }>(
  service: Service<Settings>,
  options: RunServiceOptions,
): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const prefix = `fieldproof ${service.name}`;
  let loaded;
  try {
    loaded = service.loadSettings(options.env, options.cwd);
  } catch (err) {
    const line = configErrorLine(err);
    if (line === undefined) throw err;
    stderr.write(`${line}\n`);
    return EXIT_STATUS.refused;
  }
  const logger = service.createLogger(loaded.config, stdout);
  const stop = stopController(options.signal, () => {
    stderr.write(`${prefix}: second signal during shutdown; exiting now\n`);
    process.exit(EXIT_STATUS.failed);
  });
  try {
    let running: RunningService;
    try {
      running = await service.start({ ...loaded, logger });
    } catch (err) {
      const refused = [...SHARED_REFUSALS, ...(service.refusals ?? [])].some((c) => err instanceof c);
      if (!refused) logger.error({ err }, `${service.name} failed to start`); // the stack, for debugging
      stderr.write(`${prefix}: refusing to start: ${startupErrorLine(err, service)}\n`);
      return refused ? EXIT_STATUS.refused : EXIT_STATUS.failed;
    }
    const reason = await stop.stopped;
    logger.info({ signal: reason }, 'stopping: finishing in-flight work');
    try {
      await running.close();
    } catch (err) {
      logger.error({ err }, 'error while stopping');
      return EXIT_STATUS.failed;
    }
    return EXIT_STATUS.stopped;
  } finally {
    stop.dispose();
  }
}

/** The line after `refusing to start: `: which address to change for a taken port, else the first line. */
function startupErrorLine(err: unknown, service: { readonly listenSettings: string }): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${e.address ?? '?'}:${e.port ?? '?'} (${e.code}); set ${service.listenSettings}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

/**
 * SIGTERM/SIGINT (or `signal`) → an AbortController; `stopped` resolves with the signal's name. A signal
 * during start-up is held until the service has started, then stops it; a second signal calls `second`
 * (the operator will not wait).
 */
function stopController(signal: AbortSignal | undefined, second: () => void) {
  const controller = new AbortController();
  let reason = 'abort';
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) return second();
    reason = name;
    controller.abort();
  };
  const onAbort = () => controller.abort();
  if (signal === undefined) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  } else if (signal.aborted) {
    controller.abort();
  } else {
    signal.addEventListener('abort', onAbort, { once: true });
  }
  const stopped = new Promise<string>((resolve) => {
    if (controller.signal.aborted) resolve(reason);
    else controller.signal.addEventListener('abort', () => resolve(reason), { once: true });
  });
  return {
    stopped,
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
