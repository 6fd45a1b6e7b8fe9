import { createCollectorLogger, startCollector } from '@fieldproof/collector';
import { EXIT_STATUS, loadCollectorConfig } from '@fieldproof/config';
import { DatabaseNewerThanCodeError, MigrationChecksumError, MigrationFileError } from '@fieldproof/db';
import { DeviceKeyError } from '@fieldproof/note';
import type { Command } from '../command.js';

export const collectorCommand: Command = {
  name: 'collector',
  summary: "run the fleet collector: mirror, verify and cosign enrolled units' logs until SIGTERM/SIGINT",
  usage: `fieldproof collector   migrate COLLECTOR_DB_URL (its own database), open or create the witness key
                       (COLLECTOR_WITNESS_KEY_FILE, 0600), then serve pushes on COLLECTOR_HOST:COLLECTOR_PORT
                       (default 127.0.0.1:8082). Logs are JSON lines on stdout. SIGTERM/SIGINT: stop
                       accepting, finish the pushes in flight, close the database, exit 0.

Enroll units with "fieldproof devices add"; print the witness key with "fieldproof collector-key".
Wire format, settings and errors: docs/COLLECTOR.md.`,
  example:
    'COLLECTOR_DB_URL=postgres://collector@db:5432/collector COLLECTOR_DATA_DIR=/var/lib/fieldproof-collector fieldproof collector',
  async run({ env, cwd, stderr }) {
    const config = loadCollectorConfig(env, cwd);
    const logger = createCollectorLogger(config.logLevel);
    let collector;
    try {
      collector = await startCollector(config, { logger });
    } catch (err) {
      const refused =
        err instanceof MigrationChecksumError ||
        err instanceof DatabaseNewerThanCodeError ||
        err instanceof MigrationFileError ||
        err instanceof DeviceKeyError;
      if (!refused) logger.error({ err }, 'collector failed to start');
      const code = (err as NodeJS.ErrnoException).code;
      const line =
        code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL'
          ? `cannot listen on ${config.host}:${config.port} (${code}); set COLLECTOR_HOST / COLLECTOR_PORT`
          : ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '');
      stderr.write(`fieldproof collector: refusing to start: ${line}\n`);
      return refused ? EXIT_STATUS.refused : EXIT_STATUS.failed;
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    const again = () => {
      stderr.write('fieldproof collector: second signal during shutdown; exiting now\n');
      process.exit(1);
    };
    process.once('SIGTERM', again);
    process.once('SIGINT', again);
    collector.app.log.info({ signal }, 'shutting down');
    await collector.close();
    process.off('SIGTERM', again);
    process.off('SIGINT', again);
    return EXIT_STATUS.stopped;
  },
};
