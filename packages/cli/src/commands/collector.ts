import { runCollector } from '@fieldproof/collector';
import type { Command } from '../command.js';

export const collectorCommand: Command = {
  usage: `fieldproof collector   migrate COLLECTOR_DB_URL (its own database), open or create the witness key
                       (COLLECTOR_WITNESS_KEY_FILE, 0600), then serve pushes on COLLECTOR_HOST:COLLECTOR_PORT
                       (default 127.0.0.1:8082). Logs are JSON lines on stdout. SIGTERM/SIGINT: stop
                       accepting, finish the pushes in flight, close the database, exit 0.

Enroll units with "fieldproof devices add"; print the witness key with "fieldproof collector-key".
Wire format, settings and errors: docs/COLLECTOR.md.`,
  example:
    'COLLECTOR_DB_URL=postgres://collector@db:5432/collector COLLECTOR_DATA_DIR=/var/lib/fieldproof-collector fieldproof collector',
  // The same run as apps/collector: one code path, one exit table (runService, like api and keeper).
  run: ({ env, cwd, stdout, stderr }) => runCollector({ env, cwd, stdout, stderr }),
};
