import fs from 'node:fs';
import path from 'node:path';
import type { FieldproofConfig } from '@fieldproof/config';
import { backupArchiveName, createBackupArchive, pruneBackups, walCheckpointSqlite } from '@fieldproof/db';
import type { BackupArchiveResult, Database, WalCheckpointResult } from '@fieldproof/db';
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

/** A cron expression that cannot be used; the message names the variable. */
export class MaintenanceConfigError extends Error {
  override readonly name = 'MaintenanceConfigError';
}

export interface Maintenance {
  /** Scheduled jobs, by name (`wal-checkpoint`, `backup`); empty when none is configured. */
  readonly jobs: readonly string[];
  start(): void;
  /** Stops the schedules and waits for a running job to finish. */
  stop(): Promise<void>;
  /** Runs a WAL checkpoint now (what the schedule runs). */
  walCheckpoint(): Promise<WalCheckpointResult>;
  /** Makes a backup archive into `<dataDir>/backups` now and prunes old ones (what the schedule runs). */
  backup(): Promise<BackupArchiveResult>;
}

export interface MaintenanceDeps {
  readonly database: Database;
  readonly config: FieldproofConfig;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * Scheduled SQLite maintenance with node-cron, both off unless configured:
 *
 * - `KEEPER_CRON_WAL_CHECKPOINT`: `PRAGMA wal_checkpoint(TRUNCATE)` — keeps the `-wal` file from growing
 *   while the api and keeper hold it open without pause.
 * - `KEEPER_CRON_BACKUP`: a backup archive (`createBackupArchive`: database snapshot, referenced content,
 *   device key) into `<FIELDPROOF_DATA_DIR>/backups/fieldproof-<UTC timestamp>.tar` — the name
 *   `fieldproof backup` and the systemd timer use too — keeping the newest `FIELDPROOF_BACKUP_KEEP`.
 *
 * Expressions are standard 5-field cron (an optional 6th leading field is seconds), in the system's time
 * zone like cron(8). Jobs never overlap (one at a time, also across the two schedules) and a failed job is logged and
 * retried at its next time. On PostgreSQL neither applies (use pg_dump and the server's own
 * checkpoints): a configured schedule is ignored with a warning.
 */
export function createMaintenance(deps: MaintenanceDeps): Maintenance {
  const { database, config, logger, now } = deps;
  const log = logger.child({ task: 'maintenance' });
  const sqlite = database.target.engine === 'sqlite';
  const plan: { name: string; variable: string; expression: string; run: () => Promise<unknown> }[] = [];
  const schedules: ScheduledTask[] = [];
  let running: Promise<unknown> = Promise.resolve();
  // node-cron logs to the console by default; keep every line pino JSON.
  const cronLogger = {
    info: (message: string) => log.debug(message),
    warn: (message: string) => log.warn(message),
    error: (message: string | Error, err?: Error) => log.error({ err: err ?? message }, 'node-cron error'),
    debug: (message: string | Error) => log.debug(String(message)),
  };

  const walCheckpoint = async (): Promise<WalCheckpointResult> => {
    const result = await walCheckpointSqlite(database, { mode: 'TRUNCATE' });
    if (result.busy !== 0) {
      log.warn(result, 'WAL checkpoint could not finish (a reader or writer was active); retried next time');
    } else log.info(result, 'WAL checkpoint (TRUNCATE) done');
    return result;
  };

  const backup = async (): Promise<BackupArchiveResult> => {
    const dir = path.join(config.dataDir, 'backups');
    const result = await createBackupArchive(database, path.join(dir, backupArchiveName(now())), {
      dataDir: config.dataDir,
      deviceKeyFile: fs.existsSync(config.device.keyFile) ? config.device.keyFile : undefined,
      now,
    });
    const pruned = await pruneBackups(dir, config.keeper.backupKeep);
    log.info(
      {
        file: result.file,
        bytes: result.bytes,
        ms: Math.round(result.durationMs),
        contentFiles: result.manifest.content.length,
        deviceKey: result.manifest.deviceKey !== null,
        pruned,
      },
      result.manifest.deviceKey === null
        ? 'backup archive written and verified (database and content; no device key file to include)'
        : 'backup archive written and verified (database, content and the PRIVATE device key)',
    );
    return result;
  };

  const add = (
    name: string,
    variable: string,
    expression: string | undefined,
    run: () => Promise<unknown>,
  ) => {
    if (expression === undefined) return;
    if (!cron.validate(expression)) {
      throw new MaintenanceConfigError(`${variable}: "${expression}" is not a valid cron expression`);
    }
    if (!sqlite) {
      log.warn({ variable }, `${variable} is ignored on PostgreSQL (${name} is SQLite maintenance)`);
      return;
    }
    plan.push({ name, variable, expression, run });
  };
  add('wal-checkpoint', 'KEEPER_CRON_WAL_CHECKPOINT', config.keeper.cronWalCheckpoint, walCheckpoint);
  add('backup', 'KEEPER_CRON_BACKUP', config.keeper.cronBackup, backup);

  /** Runs `job` after any running one: the two schedules never overlap. */
  const exclusive = <T>(job: () => Promise<T>): Promise<T> => {
    const next = running.then(job, job);
    running = next.catch(() => undefined);
    return next;
  };

  return {
    jobs: plan.map((p) => p.name),
    start() {
      for (const p of plan) {
        const task = cron.schedule(
          p.expression,
          async () => {
            try {
              await exclusive(p.run);
            } catch (err) {
              log.error({ err, job: p.name }, `${p.name} failed; retried at its next scheduled time`);
            }
          },
          { name: p.name, noOverlap: true, logger: cronLogger },
        );
        schedules.push(task);
        log.info(
          { job: p.name, cron: p.expression, next: task.getNextRun()?.toISOString() },
          'maintenance scheduled',
        );
      }
    },
    async stop() {
      for (const s of schedules.splice(0)) await s.destroy();
      await running;
    },
    walCheckpoint: () => exclusive(walCheckpoint),
    backup: () => exclusive(backup),
  };
}
