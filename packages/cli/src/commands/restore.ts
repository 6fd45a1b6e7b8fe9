import { loadConfig } from '@fieldproof/config';
import { restoreSqlite } from '@fieldproof/db';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'replace the database with a backup (the api and keeper must be stopped)',
  usage: `fieldproof restore FILE

Checks FILE first (integrity_check ok, a fieldproof database whose migrations this code knows),
refuses while any process has the live database open, keeps the replaced database next to it as
<name>.replaced-<UTC time>, then puts the copy in place (fsynced, mode 0600).`,
  example: `systemctl stop fieldproof-keeper fieldproof-api
fieldproof restore /var/lib/fieldproof/backups/fieldproof-2026-11-21T03-00-00-000Z.sqlite3
systemctl start fieldproof-api fieldproof-keeper`,
  async run({ positionals, env, cwd, stdout }) {
    const file = positionals[0];
    if (file === undefined || positionals.length > 1)
      throw new UsageError('expected exactly one backup FILE');
    const { config } = loadConfig(env, cwd);
    const { target } = config.database;
    if (target.engine !== 'sqlite')
      throw new UsageError('restore is for SQLite databases; restore PostgreSQL with pg_restore');
    const result = restoreSqlite(target.path, file);
    if (result.replacedFile !== undefined)
      stdout.write(`kept the replaced database as ${result.replacedFile}\n`);
    stdout.write(
      `restored ${result.file} → ${target.path}: schema version ${result.schemaVersion}, ` +
        `${result.evidence} evidence records, log size ${result.treeSize}\n`,
    );
    return 0;
  },
};
