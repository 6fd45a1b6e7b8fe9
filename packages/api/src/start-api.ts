import { HOUR, legacyMoveMessage, moveLegacyData } from '@fieldproof/config';
import type { FieldproofConfig } from '@fieldproof/config';
import { openMigratedDatabase, redactUrl } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './build-app.js';
import { ContentStore } from './content/content-store.js';
import { createApiLogger } from './logger.js';

export interface StartApiOptions {
  readonly logger?: Logger;
  /** Use this database instead of opening the configured one (the caller then closes it). */
  readonly database?: Database;
}

export interface RunningApi {
  readonly app: FastifyInstance;
  /** e.g. `http://127.0.0.1:8080` (the real port when API_PORT=0). */
  readonly address: string;
  /**
   * Graceful stop: stop accepting, answer the requests in flight, commit every queued write, close the
   * database. Gives up waiting after `config.api.shutdownTimeoutMs` (unanswered writes were never
   * acknowledged, so nothing acknowledged is lost).
   */
  close(): Promise<void>;
}

/**
 * Opens and migrates the database (migrations are safe when the keeper starts at the same time), builds
 * the app and listens. Logs one line `{"msg":"api listening","address":…}` when ready. On any failure it
 * closes whatever it opened before rejecting (a refused migration as it is, an unreachable database as a
 * DatabaseUnavailableError, a failed listen as the server's error with its `code`).
 */
export async function startApi(config: FieldproofConfig, options: StartApiOptions = {}): Promise<RunningApi> {
  const logger = options.logger ?? createApiLogger(config.logLevel);
  const ownsDatabase = options.database === undefined;
  logger.info({ database: redactUrl(config.database.target.url), dataDir: config.dataDir }, 'api starting');
  const database = await openMigratedDatabase(config.database.target, {
    sqlite: config.database.sqlite,
    ...(options.database !== undefined ? { existing: options.database } : {}),
    migrate: { onApplied: (m) => logger.info({ version: m.version, name: m.name }, 'migration applied') },
  });
  let app: FastifyInstance | undefined;
  try {
    for (const move of moveLegacyData(config)) logger.warn(move, legacyMoveMessage(move));
    const removed = await new ContentStore(config.dataDir).removeStaleUploads(HOUR);
    if (removed > 0) logger.info({ removed }, 'removed partial uploads left by an earlier crash');
    app = await buildApp({ config, database, logger });
    const address = await app.listen({ host: config.api.host, port: config.api.port });
    logger.info({ address }, 'api listening');
    return running(config, logger, app, address, ownsDatabase ? database : undefined);
  } catch (err) {
    // Close what was opened, the app first: its SQLite writer thread holds the event loop, so a failed
    // listen would otherwise leave a process that serves nothing and never exits.
    await app?.close().catch(() => undefined);
    if (ownsDatabase) await database.close().catch(() => undefined);
    throw err;
  }
}

function running(
  config: FieldproofConfig,
  logger: Logger,
  app: FastifyInstance,
  address: string,
  ownedDatabase: Database | undefined,
): RunningApi {
  let closing: Promise<void> | undefined;
  return {
    app,
    address,
    close() {
      closing ??= (async () => {
        const timeout = config.api.shutdownTimeoutMs;
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeout);
        });
        const outcome = await Promise.race([app.close().then(() => 'closed' as const), expired]);
        clearTimeout(timer);
        if (outcome === 'timeout') logger.warn({ timeoutMs: timeout }, 'shutdown timed out; closing anyway');
        await ownedDatabase?.close();
        logger.info('api stopped');
      })();
      return closing;
    },
  };
}
