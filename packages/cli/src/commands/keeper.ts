import { runKeeper } from '@fieldproof/keeper/service';
import type { Command } from '../command.js';

export const keeperCommand: Command = {
  usage: `fieldproof keeper     run until SIGTERM/SIGINT (then finish in-flight work and exit 0)

Migrates the database, opens (on first start: creates, 0600) the device key, then runs the sequencer,
the anchoring tasks and scheduled maintenance, and serves GET /healthz, /readyz and /metrics on
KEEPER_HTTP_HOST:KEEPER_HTTP_PORT (default 127.0.0.1:8081). Logs are JSON lines on stdout; a fatal
startup error is one line on stderr and a non-zero exit. Settings: docs/KEEPER.md.`,
  example: `KEEPER_DB_URL=sqlite:///var/lib/fieldproof/fieldproof.sqlite3 KEEPER_CRON_BACKUP='0 3 * * *' fieldproof keeper`,
  // The same run as apps/keeper (what systemd starts): one code path, one exit table.
  run: ({ env, cwd, stdout, stderr }) => runKeeper({ env, cwd, stdout, stderr }),
};
