import { loadConfig } from '@fieldproof/config';
import { createDatabase, migrate, migrationStatus, redactUrl } from '@fieldproof/db';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const migrateCommand: Command = {
  usage: `fieldproof migrate            apply pending migrations (safe to run while others start)
fieldproof migrate status     list applied and pending migrations; exit 1 if any are pending`,
  example: 'API_DB_URL=sqlite:///var/lib/fieldproof/fieldproof.sqlite3 fieldproof migrate status',
  async run({ positionals, env, cwd, stdout }) {
    const sub = positionals[0];
    if (sub !== undefined && sub !== 'status') throw new UsageError(`unknown migrate sub-command "${sub}"`);
    const { config } = loadConfig(env, cwd);
    const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
    try {
      const where = redactUrl(config.database.target.url);
      if (sub === 'status') {
        const status = await migrationStatus(database);
        stdout.write(`database: ${where}\n`);
        for (const a of status.applied) {
          stdout.write(`applied  ${pad(a.version)} ${a.name}  ${new Date(a.appliedAt).toISOString()}\n`);
        }
        for (const p of status.pending) stdout.write(`pending  ${pad(p.version)} ${p.name}\n`);
        stdout.write(`${status.applied.length} applied, ${status.pending.length} pending\n`);
        return status.pending.length === 0 ? 0 : 1;
      }
      const applied = await migrate(database, {
        onApplied: (m) => stdout.write(`applied  ${pad(m.version)} ${m.name}\n`),
      });
      stdout.write(applied.length === 0 ? `database is current: ${where}\n` : `migrated ${where}\n`);
      return 0;
    } finally {
      await database.close();
    }
  },
};

function pad(version: number): string {
  return String(version).padStart(4, '0');
}
