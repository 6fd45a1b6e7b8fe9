import fs from 'node:fs/promises';
import path from 'node:path';

/** Backups made by every path (`fieldproof backup`, KEEPER_CRON_BACKUP, the systemd timer), and older
 *  database-only ones (`.sqlite3`): one series, sorted by name = by time. */
const SERIES = /^fieldproof-\d{8}T\d{6}\.\d{3}Z\.(tar|sqlite3)$/;

/**
 * `fieldproof-<UTC time>.tar`, e.g. `fieldproof-20250131T020304.005Z.tar`: the one name every backup gets
 * unless the operator chooses a file, so that names sort by time and one retention rule covers all.
 */
export function backupArchiveName(at: number): string {
  return `fieldproof-${new Date(at).toISOString().replace(/[-:]/g, '')}.tar`;
}

/**
 * Deletes the oldest backups in `dir` so that `keep` remain. Only files named like
 * {@link backupArchiveName} (or the older `fieldproof-<UTC time>.sqlite3`) count: backups an operator
 * named otherwise are never touched. Returns the deleted paths.
 */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  // The timestamp decides the order; the extension only breaks ties.
  const backups = names.filter((n) => SERIES.test(n)).sort();
  const doomed = backups.slice(0, Math.max(0, backups.length - keep)).map((n) => path.join(dir, n));
  for (const file of doomed) await fs.rm(file, { force: true });
  return doomed;
}
