import fs from 'node:fs/promises';
import path from 'node:path';

const PREFIX = 'fieldproof-';
const SUFFIX = '.sqlite3';
const NAME = /^fieldproof-\d{8}T\d{6}\.\d{3}Z\.sqlite3$/;

/** `fieldproof-<UTC timestamp>.sqlite3`, e.g. `fieldproof-20250131T020000.000Z.sqlite3`: sorts by time. */
export function backupFileName(at: number): string {
  const iso = new Date(at).toISOString(); // 2025-01-31T02:00:00.000Z
  return `${PREFIX}${iso.replace(/[-:]/g, '')}${SUFFIX}`;
}

/**
 * Deletes the oldest scheduled backups in `dir` so that `keep` remain. Only files named like
 * {@link backupFileName} are considered: backups an operator made elsewhere or renamed are never touched.
 * Returns the deleted paths.
 */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const backups = names.filter((n) => NAME.test(n)).sort();
  const doomed = backups.slice(0, Math.max(0, backups.length - keep)).map((n) => path.join(dir, n));
  for (const file of doomed) await fs.rm(file, { force: true });
  return doomed;
}
