import { runApi } from '@fieldproof/api';
import type { Command } from '../command.js';

export const apiCommand: Command = {
  usage: `fieldproof api       migrate the database, then serve the api on API_HOST:API_PORT (default
                     127.0.0.1:8080). Logs are JSON lines on stdout; the line {"msg":"api listening",
                     "address":…} says where. SIGTERM/SIGINT: stop accepting, answer the requests in
                     flight, commit every queued write, close the database, exit 0. A second signal
                     exits at once (nothing unacknowledged was promised).

Every route but /healthz and /readyz needs an API key: create the first one with
  fieldproof keys create --scopes read,write,admin
(it works before or while the api runs). Routes, errors and settings: docs/API.md.`,
  example: 'API_DB_URL=sqlite:///var/lib/fieldproof/fieldproof.sqlite3 API_PORT=8080 fieldproof api',
  // The same run as apps/api (what systemd and the container start): one code path, one exit table.
  run: ({ env, cwd, stdout, stderr }) => runApi({ env, cwd, stdout, stderr }),
};
