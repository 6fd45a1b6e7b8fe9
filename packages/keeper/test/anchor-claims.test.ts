import { describe, expect, it } from 'vitest';
import {
  claimAnchorJob,
  createDatabase,
  insertAnchorJob,
  migrate,
  newId,
  releaseAnchorJob,
} from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { appendCheckpoint } from '../../../test/support/anchor-fixtures.js';
import { freshDatabaseUrl, targetOf, testEngines } from '../../../test/support/databases.js';

/**
 * Claims race on a real database: several workers (separate connections) claim at once; each job is
 * claimed by exactly one, and a release by a stale token changes nothing.
 */
describe.each(testEngines())('claiming anchor jobs on %s', (engine) => {
  it('gives each due job to exactly one of many concurrent workers, and fences stale tokens', async () => {
    const url = await freshDatabaseUrl(engine);
    const setup = createDatabase(targetOf(url));
    await migrate(setup);
    const now = Date.now();
    for (let i = 0; i < 6; i++) {
      const cp = await appendCheckpoint(setup, 1, { now });
      await insertAnchorJob(setup.db, {
        id: newId(),
        chain: 'local',
        chainId: 31337,
        treeSize: cp.treeSize,
        now,
      });
    }
    // PostgreSQL: four pools racing (FOR UPDATE SKIP LOCKED). SQLite: better-sqlite3 is synchronous, so
    // a second connection in the same process would block the event loop on the write lock; processes
    // race for BEGIN IMMEDIATE instead (test/anchor-crash.test.ts). Here one connection queues the claims.
    const workers: Database[] =
      engine === 'postgres' ? Array.from({ length: 4 }, () => createDatabase(targetOf(url))) : [];
    if (workers.length === 0) workers.push(setup);
    try {
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => {
          const database = workers[i % workers.length]!;
          return database.db.transaction().execute((trx) =>
            claimAnchorJob(trx, {
              chain: 'local',
              owner: `worker-${i}`,
              now,
              leaseMs: 60_000,
              skipLocked: database.capabilities.skipLocked,
            }),
          );
        }),
      );
      const claimed = claims.filter((c) => c !== undefined);
      expect(claimed).toHaveLength(6);
      expect(new Set(claimed.map((c) => c.id)).size).toBe(6);
      expect(claimed.every((c) => c.lease_token === 1)).toBe(true);

      const job = claimed[0]!;
      expect(await releaseAnchorJob(setup.db, job.id, job.lease_token + 1, { state: 'final' })).toBe(false);
      expect(await releaseAnchorJob(setup.db, job.id, job.lease_token, { state: 'broadcast' })).toBe(true);
    } finally {
      for (const w of workers) if (w !== setup) await w.close();
      await setup.close();
    }
  });
});
