import path from 'node:path';
import { loadConfig } from '@fieldproof/config';
import { backupSqlite, createDatabase } from '@fieldproof/db';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const backupCommand: Command = {
  name: 'backup',
  summary: 'write a consistent, checked copy of the live database (safe while api and keeper run)',
  usage: `fieldproof backup [--out FILE] [--overwrite]

  --out FILE     where to write the copy (default: <FIELDPROOF_DATA_DIR>/backups/fieldproof-<UTC time>.sqlite3)
  --overwrite    replace FILE if it exists (default: refuse)

Copies with VACUUM INTO (one consistent snapshot: every commit made before the backup started is in it),
checks the copy with PRAGMA integrity_check, fsyncs it and renames it into place (mode 0600). Do not
back up with cp: a live WAL database keeps recent commits in the -wal file, which cp can miss.
Progress goes to stderr; the last stdout line names the file. PostgreSQL: use pg_dump.`,
  example: 'fieldproof backup --out /var/lib/fieldproof/backups/before-upgrade.sqlite3',
  options: { out: { type: 'string' }, overwrite: { type: 'boolean' } },
  async run({ values, positionals, env, cwd, stdout, stderr }) {
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument "${positionals[0]}" (use --out FILE)`);
    const { config } = loadConfig(env, cwd);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const out = path.resolve(
      cwd,
      typeof values.out === 'string'
        ? values.out
        : path.join(config.dataDir, 'backups', `fieldproof-${stamp}.sqlite3`),
    );
    const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
    try {
      const started = Date.now();
      const result = await backupSqlite(database, out, {
        overwrite: values.overwrite === true,
        onProgress: (p) => {
          const size = p.bytes === undefined ? '' : ` (${(p.bytes / 1e6).toFixed(1)} MB)`;
          stderr.write(`backup: ${p.phase}${size} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        },
      });
      stdout.write(
        `backup written: ${result.file} (${result.bytes} bytes, integrity_check ok, ${Math.round(result.durationMs)} ms)\n`,
      );
      return 0;
    } finally {
      await database.close();
    }
  },
};
