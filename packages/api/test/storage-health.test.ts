import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { StorageHealth } from '../src/ops/storage-health.js';
import { tempDir } from '../../../test/support/databases.js';

/** What node-postgres throws for PostgreSQL's disk_full (it cannot be produced in a test). */
function postgresDiskFull(): Error {
  const err = new pg.DatabaseError(
    'could not extend file "base/16384/16397": No space left on device',
    120,
    'error',
  );
  return Object.assign(err, { severity: 'ERROR', code: '53100' });
}

describe('StorageHealth (what /readyz says after a write failed for lack of space)', () => {
  const now = () => Date.UTC(2026, 0, 1);

  it('clears a full content store once its folder has room (here: a roomy temp folder)', async () => {
    const storage = new StorageHealth({ folders: [tempDir()], databaseVisible: true, now });
    expect(await storage.check()).toBeUndefined();
    storage.markFull(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    expect(await storage.check()).toBeUndefined(); // statfs finds space: it is back
  });

  it('keeps a full PostgreSQL server failing until a write commits: its disk cannot be seen', async () => {
    const storage = new StorageHealth({ folders: [tempDir()], databaseVisible: false, now });
    storage.markFull(postgresDiskFull());
    expect(await storage.check()).toBe(
      'storage is full since 2026-01-01T00:00:00.000Z (database: 53100); free space, then writes resume',
    );
    storage.markWritten();
    expect(await storage.check()).toBeUndefined();
  });

  it('a folder it cannot read does not count as room', async () => {
    const storage = new StorageHealth({ folders: ['/nonexistent/fieldproof'], databaseVisible: true, now });
    storage.markFull({ code: 'SQLITE_FULL' });
    expect(await storage.check()).toMatch(/database: SQLITE_FULL/);
  });
});
