import { createApiLogger, startApi } from '@fieldproof/api';
import { EXIT_STATUS, LegacyDataConflictError, loadConfig } from '@fieldproof/config';
import type { FieldproofConfig } from '@fieldproof/config';
import { DatabaseNewerThanCodeError, MigrationChecksumError, MigrationFileError } from '@fieldproof/db';
import type { Command } from '../command.js';

export const apiCommand: Command = {
  name: 'api',
  summary: 'run the HTTP api until SIGTERM/SIGINT (then finish requests and commits, exit 0)',
  usage: `fieldproof api       migrate the database, then serve the api on API_HOST:API_PORT (default
                     127.0.0.1:8080). Logs are JSON lines on stdout; the line {"msg":"api listening",
                     "address":…} says where. SIGTERM/SIGINT: stop accepting, answer the requests in
                     flight, commit every queued write, close the database, exit 0. A second signal
                     exits at once (nothing unacknowledged was promised).

Every route but /healthz and /readyz needs an API key: create the first one with
  fieldproof keys create --scopes read,write,admin
(it works before or while the api runs). Routes, errors and settings: docs/API.md.`,
  example: 'API_DB_URL=sqlite:///var/lib/fieldproof/fieldproof.sqlite3 API_PORT=8080 fieldproof api',
  async run({ env, cwd, stderr }) {
    const { config } = loadConfig(env, cwd);
    const logger = createApiLogger(config.logLevel);
    let api;
    try {
      api = await startApi(config, { logger });
    } catch (err) {
      const refused = isRefusal(err);
      if (!refused) logger.error({ err }, 'api failed to start'); // the stack, for debugging
      stderr.write(`fieldproof api: refusing to start: ${startupErrorLine(err, config)}\n`);
      return refused ? EXIT_STATUS.refused : EXIT_STATUS.failed;
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    const again = () => {
      stderr.write(`fieldproof api: second signal during shutdown; exiting now\n`);
      process.exit(1);
    };
    process.once('SIGTERM', again);
    process.once('SIGINT', again);
    api.app.log.info({ signal }, 'shutting down');
    await api.close();
    process.off('SIGTERM', again);
    process.off('SIGINT', again);
    return 0;
  },
};

/** Start-up errors no restart can fix (exit EXIT_STATUS.refused); their message is the operator's line. */
function isRefusal(err: unknown): err is Error {
  return (
    err instanceof MigrationChecksumError ||
    err instanceof DatabaseNewerThanCodeError ||
    err instanceof MigrationFileError ||
    err instanceof LegacyDataConflictError
  );
}

/** The one line an operator sees for an error that stops the api from starting (as the keeper's). */
function startupErrorLine(err: unknown, config: FieldproofConfig): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return `cannot listen on ${config.api.host}:${config.api.port} (${code}); set API_HOST / API_PORT`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
