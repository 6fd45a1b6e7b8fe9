import { startApi } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
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
    let api;
    try {
      api = await startApi(config);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        stderr.write(`fieldproof api: cannot listen on ${config.api.host}:${config.api.port}: ${code}\n`);
        return 1;
      }
      throw err;
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
