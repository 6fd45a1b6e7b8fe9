import { EXIT_STATUS, LegacyDataConflictError, legacyMoveMessage, moveLegacyData } from '@fieldproof/config';
import type { FieldproofConfig, Secrets } from '@fieldproof/config';
import {
  DatabaseNewerThanCodeError,
  MigrationChecksumError,
  MigrationFileError,
  openMigratedDatabase,
} from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { DeviceKeyError } from '@fieldproof/note';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { SignerKeyError, createAnchoring } from './anchor/index.js';
import { DeviceIdentityError, openDeviceIdentity } from './device/device-identity.js';
import { createKeeper } from './keeper.js';
import type { Keeper } from './keeper.js';
import { createKeeperLogger } from './logger.js';
import { MaintenanceConfigError } from './maintenance/maintenance.js';

export interface RunKeeperOptions {
  readonly config: FieldproofConfig;
  readonly secrets: Secrets;
  /** Log lines (pino JSON). Default process.stdout. */
  readonly stdout?: NodeJS.WritableStream;
  /** The one line of a fatal startup error. Default process.stderr. */
  readonly stderr?: NodeJS.WritableStream;
  /** Stop on this signal instead of SIGTERM/SIGINT (tests). */
  readonly stopSignal?: AbortSignal;
  readonly now?: () => number;
}

/**
 * The keeper process from start to exit: open and migrate the database, open the device identity, warn
 * when no chain is configured, compose sequencer + anchoring, start, and on SIGTERM/SIGINT stop (awaiting
 * in-flight work), close the database and resolve 0. A fatal startup error is written to stderr as one
 * line and resolves EXIT_STATUS.refused (2) when the operator must fix something first (a key, the
 * origin, a migration, a maintenance setting), else EXIT_STATUS.failed (1). Never calls process.exit:
 * the caller sets process.exitCode.
 */
export async function runKeeper(options: RunKeeperOptions): Promise<number> {
  const { config, secrets } = options;
  const stderr = options.stderr ?? process.stderr;
  const now = options.now ?? Date.now;
  const logger = createKeeperLogger(config.logLevel, options.stdout ?? process.stdout);
  const stopRequested = stopSignalPromise(options.stopSignal);
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
    collectDefaultMetrics({ register: registry });
    const deps = { database, config, secrets, logger, registry, now };
    keeper = createKeeper({ ...deps, device, anchoring: createAnchoring(deps) });
    await keeper.start();
  } catch (err) {
    if (!isOperatorError(err)) logger.error({ err }, 'keeper failed to start'); // the stack, for debugging
    stderr.write(`fieldproof keeper: refusing to start: ${startupErrorLine(err)}\n`);
    await keeper?.stop().catch(() => undefined);
    await database?.close().catch(() => undefined);
    stopRequested.dispose();
    return isOperatorError(err) ? EXIT_STATUS.refused : EXIT_STATUS.failed;
  }

  const signal = await stopRequested.promise;
  logger.info({ signal }, 'stopping: finishing in-flight work');
  try {
    await keeper.stop();
    await database.close();
  } catch (err) {
    logger.error({ err }, 'error while stopping');
    return EXIT_STATUS.failed;
  }
  logger.info('keeper stopped');
  return EXIT_STATUS.stopped;
}

/** The one line an operator sees for an error that stops the keeper from starting. */
export function startupErrorLine(err: unknown): string {
  if (isOperatorError(err)) return err.message;
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${e.address ?? '?'}:${e.port ?? '?'} (${e.code}); set KEEPER_HTTP_HOST / KEEPER_HTTP_PORT`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

/** Errors whose message is already the one line an operator needs (no stack wanted), and that no restart fixes. */
function isOperatorError(err: unknown): err is Error {
  return (
    err instanceof DeviceIdentityError ||
    err instanceof DeviceKeyError ||
    err instanceof LegacyDataConflictError ||
    err instanceof MaintenanceConfigError ||
    err instanceof SignerKeyError ||
    err instanceof MigrationChecksumError ||
    err instanceof DatabaseNewerThanCodeError ||
    err instanceof MigrationFileError
  );
}

/** Resolves with the signal name on SIGTERM/SIGINT (or when `signal` aborts); `dispose` removes the handlers. */
function stopSignalPromise(signal: AbortSignal | undefined): { promise: Promise<string>; dispose(): void } {
  let dispose = () => {};
  const promise = new Promise<string>((resolve) => {
    if (signal !== undefined) {
      const onAbort = () => resolve('abort');
      signal.addEventListener('abort', onAbort, { once: true });
      dispose = () => signal.removeEventListener('abort', onAbort);
      return;
    }
    const onSignal = (name: NodeJS.Signals) => {
      dispose();
      resolve(name);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    dispose = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  });
  return { promise, dispose: () => dispose() };
}
