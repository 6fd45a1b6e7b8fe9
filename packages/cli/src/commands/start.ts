import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@fieldproof/config';
import { createDatabase, migrate } from '@fieldproof/db';
import type { Command } from '../command.js';

/** The deployed entry points (what systemd runs): each process loads its own package only. */
const ENTRY = {
  api: fileURLToPath(new URL('../../../../apps/api/dist/index.js', import.meta.url)),
  keeper: fileURLToPath(new URL('../../../../apps/keeper/dist/index.js', import.meta.url)),
} as const;

export const startCommand: Command = {
  usage: `fieldproof start     migrate, then run the api and the keeper (apps/api, apps/keeper) as two processes
                     sharing one database. SIGTERM/SIGINT stops both; if either exits, the other is
                     stopped and start exits with the first one's code.`,
  example: 'API_PORT=8080 KEEPER_HTTP_PORT=8081 fieldproof start',
  async run({ env, cwd, stderr }) {
    // Migrate once up front so the two children do not both log the same migrations (either alone is safe).
    const { config } = loadConfig(env, cwd);
    const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
    try {
      await migrate(database);
    } finally {
      await database.close();
    }
    const children = new Map<string, ChildProcess>();
    let stopping = false;
    let firstExit: number | undefined;
    const stopAll = (signal: NodeJS.Signals) => {
      stopping = true;
      for (const child of children.values()) if (child.exitCode === null) child.kill(signal);
    };
    const exited = (['api', 'keeper'] as const).map(
      (name) =>
        new Promise<void>((resolve) => {
          const child = spawn(process.execPath, [ENTRY[name]], { cwd, env: { ...env }, stdio: 'inherit' });
          children.set(name, child);
          child.on('exit', (code, signal) => {
            const status = code ?? (signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 1);
            if (!stopping) {
              stderr.write(
                `fieldproof start: ${name} exited (${signal ?? code}); stopping the other process\n`,
              );
              firstExit ??= status === 0 ? 1 : status;
              stopAll('SIGTERM');
            }
            resolve();
          });
        }),
    );
    const onSignal = (signal: NodeJS.Signals) => stopAll(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    await Promise.all(exited);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    return firstExit ?? 0;
  },
};
