import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { backupArchiveName, pruneBackups } from '@fieldproof/db';
import { MaintenanceConfigError, createMaintenance } from '@fieldproof/keeper';
import { createTestDatabase, tempDir } from '../../../test/support/databases.js';
import { addEvidence, testDeps } from './support.js';
import { waitFor } from '../../../test/support/wait-for.js';

describe('maintenance', () => {
  it('names backups by UTC time so that they sort, and prunes only its own files beyond `keep`', async () => {
    expect(backupArchiveName(Date.UTC(2025, 0, 31, 2, 3, 4, 5))).toBe('fieldproof-20250131T020304.005Z.tar');
    const dir = tempDir();
    const names = [1, 2, 3, 4].map((d) => backupArchiveName(Date.UTC(2025, 0, d)));
    for (const n of [...names, 'mine.sqlite3', 'fieldproof-manual.sqlite3'])
      fs.writeFileSync(path.join(dir, n), '');
    const pruned = await pruneBackups(dir, 2);
    expect(pruned.map((p) => path.basename(p))).toEqual(names.slice(0, 2));
    expect(fs.readdirSync(dir).sort()).toEqual(
      ['fieldproof-manual.sqlite3', 'mine.sqlite3', ...names.slice(2)].sort(),
    );
    expect(await pruneBackups(path.join(dir, 'none'), 1)).toEqual([]);
  });

  it('is off unless configured, and refuses an invalid cron expression naming the variable', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      expect(createMaintenance(testDeps(database)).jobs).toEqual([]);
      const both = createMaintenance(
        testDeps(database, { KEEPER_CRON_BACKUP: '0 3 * * *', KEEPER_CRON_WAL_CHECKPOINT: '*/15 * * * *' }),
      );
      expect(both.jobs).toEqual(['wal-checkpoint', 'backup']);
      both.start();
      await both.stop();
      expect(() => createMaintenance(testDeps(database, { KEEPER_CRON_BACKUP: 'every night' }))).toThrow(
        MaintenanceConfigError,
      );
      expect(() =>
        createMaintenance(testDeps(database, { KEEPER_CRON_WAL_CHECKPOINT: '61 * * * *' })),
      ).toThrow(/^KEEPER_CRON_WAL_CHECKPOINT: "61 \* \* \* \*" is not a valid cron expression$/);
    } finally {
      await database.close();
    }
  });

  it('checkpoints the WAL (TRUNCATE) and makes verified 0600 backup archives in <dataDir>/backups, keeping backupKeep', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      await addEvidence(database, 50);
      const deps = testDeps(database, { FIELDPROOF_BACKUP_KEEP: '2' });
      let t = Date.UTC(2025, 5, 1);
      const maintenance = createMaintenance({ ...deps, now: () => (t += 1_000) });
      const wal = await maintenance.walCheckpoint();
      expect(wal.busy).toBe(0);
      expect(wal.checkpointed).toBe(wal.log);
      const walFile = `${database.target.engine === 'sqlite' ? database.target.path : ''}-wal`;
      expect(fs.statSync(walFile).size).toBe(0);

      const results = [];
      for (let i = 0; i < 3; i++) results.push(await maintenance.backup());
      const dir = path.join(deps.config.dataDir, 'backups');
      expect(fs.readdirSync(dir).sort()).toEqual(results.slice(1).map((r) => path.basename(r.file)));
      const last = results.at(-1)!;
      expect(fs.statSync(last.file).mode & 0o777).toBe(0o600);
      expect(last.manifest.database).toMatchObject({ evidence: 50 });
      expect(last.manifest.deviceKey).toBeNull(); // no key file in this data folder
      expect(fs.readFileSync(last.file).subarray(0, 13).toString()).toBe('manifest.json'); // a tar
    } finally {
      await database.close();
    }
  });

  it('runs a scheduled job and logs its result', async () => {
    const database = await createTestDatabase('sqlite');
    try {
      const lines: Record<string, unknown>[] = [];
      const logger = pino(
        { level: 'info' },
        { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
      );
      const deps = testDeps(database, { KEEPER_CRON_WAL_CHECKPOINT: '* * * * * *' }); // every second
      const maintenance = createMaintenance({ ...deps, logger });
      maintenance.start();
      await waitFor('the scheduled WAL checkpoint', () =>
        lines.some((l) => l.msg === 'WAL checkpoint (TRUNCATE) done'),
      ).finally(() => maintenance.stop());
      expect(lines.find((l) => l.msg === 'maintenance scheduled')).toMatchObject({ job: 'wal-checkpoint' });
      expect(lines.find((l) => l.msg === 'WAL checkpoint (TRUNCATE) done')).toMatchObject({ busy: 0 });
    } finally {
      await database.close();
    }
  });
});
