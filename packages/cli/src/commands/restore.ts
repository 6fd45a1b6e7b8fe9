import path from 'node:path';
import { legacyMoveMessage, loadConfig, moveLegacyData } from '@fieldproof/config';
import { isSqliteDatabaseFile, restoreBackupArchive, restoreSqlite } from '@fieldproof/db';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const restoreCommand: Command = {
  usage: `fieldproof restore FILE

FILE is an archive from \`fieldproof backup\`. Before anything changes, every file in it is checked against
its manifest (size, SHA-256; nothing missing, nothing extra), the database snapshot with integrity_check
and this code's migrations, and the content it references against the content the archive holds; a
failed check changes nothing. Refuses while any process has the live database open. Then adds the
content files to <FIELDPROOF_DATA_DIR>/content/, puts the device key in place (mode 0600) and the
database (fsynced, mode 0600). Whatever it replaces — the database, a different key, a content file
that differs — is moved to <FIELDPROOF_DATA_DIR>/replaced-<UTC time>/, never deleted.
A database-only .sqlite3 backup from an older fieldproof is restored as the database alone.
PostgreSQL: restores content and key; restore the database with pg_restore.`,
  example: `systemctl stop fieldproof-keeper fieldproof-api
fieldproof restore /var/lib/fieldproof/backups/fieldproof-20261121T030000.000Z.tar
systemctl start fieldproof-api fieldproof-keeper`,
  async run({ positionals, env, cwd, stdout, stderr }) {
    const file = positionals[0];
    if (file === undefined || positionals.length > 1)
      throw new UsageError('expected exactly one backup FILE');
    const { config } = loadConfig(env, cwd);
    let archive = path.resolve(cwd, file);
    for (const move of moveLegacyData(config)) {
      stderr.write(`fieldproof restore: ${legacyMoveMessage(move)}\n`);
      // e.g. `restore backups/x.tar` on a unit whose backups/ just moved into the data folder
      if (move.outcome === 'moved' && archive.startsWith(move.from + path.sep))
        archive = path.join(move.to, path.relative(move.from, archive));
    }
    const { target } = config.database;
    if (isSqliteDatabaseFile(archive)) {
      if (target.engine !== 'sqlite')
        throw new UsageError('a .sqlite3 backup is for SQLite databases; restore PostgreSQL with pg_restore');
      const result = restoreSqlite(target.path, archive, {
        replacedDir: path.join(config.dataDir, `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`),
      });
      if (result.replacedFile !== undefined)
        stdout.write(`kept the replaced database as ${result.replacedFile}\n`);
      stdout.write(
        `restored ${result.file} → ${target.path}: schema version ${result.schemaVersion}, ` +
          `${result.evidence} evidence records, log size ${result.treeSize}\n`,
      );
      stdout.write('this was a database-only backup: content files and the device key were not in it\n');
      return 0;
    }
    const result = await restoreBackupArchive(target, archive, {
      dataDir: config.dataDir,
      deviceKeyFile: config.device.keyFile,
    });
    stdout.write(
      `restored ${archive} (made ${result.manifest.createdAt}), every file checked against its manifest\n`,
    );
    if (result.database !== undefined) {
      const d = result.database;
      stdout.write(
        `  database     → ${target.engine === 'sqlite' ? target.path : ''}: schema version ${d.schemaVersion}, ` +
          `${d.evidence} evidence records, log size ${d.treeSize}\n`,
      );
    } else {
      stdout.write('  database     NOT in this archive (PostgreSQL): restore it with pg_restore\n');
    }
    stdout.write(
      `  content      ${result.contentRestored} file(s) restored, ${result.contentPresent} already in place → ${path.join(config.dataDir, 'content')}\n`,
    );
    stdout.write(
      result.key === 'not-in-archive'
        ? `  device key   NOT in this archive (made with --no-key?): put the key back at ${config.device.keyFile} before starting the keeper\n`
        : `  device key   ${result.key === 'restored' ? 'restored' : 'already in place'} → ${config.device.keyFile} (mode 0600)\n`,
    );
    if (result.replacedDir !== undefined) stdout.write(`kept what was replaced in ${result.replacedDir}\n`);
    return 0;
  },
};
