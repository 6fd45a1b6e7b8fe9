import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/databases.js';

// The 30-day offline simulation of the benchmark (`npm run bench -- --only offline`), small: 20 000 records
// one simulated second apart while the chain's RPC port answers nothing, with the real api and keeper
// (the units' node flags) beside them; then a hardhat node starts on that port. The keeper must have
// sequenced everything while offline, sent nothing, and then send ONE anchor covering every record, which
// reaches final. Runs the BUILT entry points (`npm run build` first; `npm test` does it).

interface OfflineResult {
  records: number;
  sequencerRate: number;
  sentWhileOffline: number;
  anchorsSent: number;
  finalAnchor: { treeSize: number; state: string };
  jobs: { treeSize: number; state: string }[];
  dbBytesPerMillion: number;
  rss: { apiMax: number; keeperMax: number };
}

const bench = (file: string) => new URL(`../bench/lib/${file}`, import.meta.url).href;

describe('a unit offline for a while', () => {
  const dir = tempDir('fieldproof-offline-');
  afterAll(async () => {
    const { killAll } = (await import(bench('processes.mjs'))) as { killAll: () => Promise<void> };
    await killAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    'sequences 20 000 records with the RPC unreachable, then anchors them all in one transaction',
    { timeout: 600_000 },
    async () => {
      const { runOffline } = (await import(bench('bench-offline.mjs'))) as {
        runOffline: (size: { dir: string; records: number; chunk: number }) => Promise<OfflineResult>;
      };
      const r = await runOffline({ dir, records: 20_000, chunk: 5_000 });
      expect(r.records).toBe(20_000);
      expect(r.sentWhileOffline).toBe(0);
      expect(r.anchorsSent).toBe(1);
      expect(r.finalAnchor).toMatchObject({ treeSize: 20_000, state: 'final' });
      expect(r.jobs.map((j) => j.treeSize)).toEqual([20_000]);
      expect(r.sequencerRate).toBeGreaterThan(1);
      expect(r.dbBytesPerMillion).toBeGreaterThan(0);
      expect(r.rss.keeperMax).toBeGreaterThan(0);
    },
  );
});
