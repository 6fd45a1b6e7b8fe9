import fs from 'node:fs';
import path from 'node:path';
import { legacyMoveMessage, loadConfig, moveLegacyData } from '@fieldproof/config';
import { backupArchiveName, createBackupArchive, createDatabase, pruneBackups } from '@fieldproof/db';
import type { ArchiveProgress } from '@fieldproof/db';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const backupCommand: Command = {
  usage: `fieldproof backup [--out FILE | --dir DIR] [--no-key] [--keep N] [--overwrite]

  --out FILE     where to write the archive
  --dir DIR      write DIR/fieldproof-<UTC time>.tar (default DIR: <FIELDPROOF_DATA_DIR>/backups)
  --no-key       leave the device's private key out of the archive
  --keep N       then delete the oldest fieldproof-<UTC time>.tar (and older .sqlite3) backups in the
                 archive's folder so that N remain; other files are never touched
  --overwrite    replace FILE if it exists (default: refuse)

The archive is a tar (mode 0600) holding manifest.json (size and SHA-256 of every file), a consistent
snapshot of the database (VACUUM INTO, checked with PRAGMA integrity_check), every content file that
snapshot references, and the device key — THE PRIVATE KEY: whoever has the archive can sign as this
device. Keep it like the key itself, or use --no-key and keep the key elsewhere. \`fieldproof restore\`
checks all of it before changing anything. Do not back up with cp: a live WAL database keeps recent
commits in the -wal file, which cp can miss. Progress goes to stderr; stdout says what was written.
PostgreSQL: the archive holds content and key only; back the database up with pg_dump first.`,
  example: 'fieldproof backup --out /var/lib/fieldproof/backups/before-upgrade.tar',
  options: {
    out: { type: 'string' },
    dir: { type: 'string' },
    'no-key': { type: 'boolean' },
    keep: { type: 'string' },
    overwrite: { type: 'boolean' },
  },
  async run({ values, positionals, env, cwd, stdout, stderr }) {
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument "${positionals[0]}" (use --out FILE)`);
    if (typeof values.out === 'string' && typeof values.dir === 'string')
      throw new UsageError('give --out FILE or --dir DIR, not both');
    let keep: number | undefined;
    if (typeof values.keep === 'string') {
      keep = Number(values.keep);
      if (!/^\d+$/.test(values.keep) || keep < 1) throw new UsageError('--keep must be a whole number ≥ 1');
    }
    const { config } = loadConfig(env, cwd);
    for (const move of moveLegacyData(config))
      stderr.write(`fieldproof backup: ${legacyMoveMessage(move)}\n`);
    const out = path.resolve(
      cwd,
      typeof values.out === 'string'
        ? values.out
        : path.join(
            typeof values.dir === 'string' ? values.dir : path.join(config.dataDir, 'backups'),
            backupArchiveName(Date.now()),
          ),
    );
    const noKey = values['no-key'] === true;
    const keyFile = config.device.keyFile;
    const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
    try {
      const started = Date.now();
      const result = await createBackupArchive(database, out, {
        dataDir: config.dataDir,
        deviceKeyFile: noKey || !fs.existsSync(keyFile) ? undefined : keyFile,
        overwrite: values.overwrite === true,
        onProgress: (p) =>
          stderr.write(`backup: ${progressLine(p)} after ${seconds(Date.now() - started)}\n`),
      });
      const { manifest } = result;
      stdout.write(
        `backup written: ${result.file} (${result.bytes} bytes, mode 0600, ${Math.round(result.durationMs)} ms)\n`,
      );
      stdout.write(
        manifest.database === null
          ? '  database     NOT in this archive: PostgreSQL — back it up with pg_dump (before this archive)\n'
          : `  database     snapshot, integrity_check ok, schema version ${manifest.database.schemaVersion}, ${manifest.database.evidence} evidence records\n`,
      );
      stdout.write(
        `  content      ${manifest.content.length} file(s), ${manifest.content.reduce((n, c) => n + c.bytes, 0)} bytes, SHA-256 checked\n`,
      );
      if (manifest.deviceKey !== null) {
        stdout.write(`  device key   INCLUDED — this archive holds the device's PRIVATE KEY (${keyFile});\n`);
        stdout.write(
          '               anyone who has it can sign as this device: store it as you store the key\n',
        );
      } else if (noKey) {
        stdout.write(
          '  device key   NOT included (--no-key): keep a copy of the key elsewhere, a restore needs it\n',
        );
      } else {
        stdout.write(
          `  device key   NOT included: no key file at ${keyFile} (FIELDPROOF_DEVICE_KEY from a secret store, or no keeper start yet)\n`,
        );
      }
      if (keep !== undefined) {
        for (const pruned of await pruneBackups(path.dirname(result.file), keep))
          stdout.write(`pruned ${pruned}\n`);
      }
      return 0;
    } finally {
      await database.close();
    }
  },
};

function progressLine(p: ArchiveProgress): string {
  if (p.phase === 'content') {
    return `content ${p.contentDone}/${p.contentFiles} files (${mb(p.contentBytesDone)}/${mb(p.contentBytes)} MB)`;
  }
  return p.phase;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
