import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '@fieldproof/cli';
import type { Database } from '@fieldproof/db';
import { receiptFor } from '@fieldproof/proofs';
import { BUNDLE_FORMAT, type Receipt } from '@fieldproof/receipt';
import { createTestDatabase, tempDir } from './support/databases.js';
import { createLogFixture } from './support/log-fixture.js';

/**
 * `fieldproof verify <bundle>` reports progress on stderr — every second (an injected clock, no real time)
 * or every 1000 receipts — while stdout keeps exactly the report it always had.
 */
let database: Database;
let dir: string;
let receipts: Receipt[];

beforeAll(async () => {
  dir = tempDir('fieldproof-verify-progress-');
  database = await createTestDatabase('sqlite');
  const log = await createLogFixture(database.db);
  await log.appendBatch(6);
  receipts = [];
  for (const r of log.records)
    receipts.push(await receiptFor(database.db, r.id, { format: 'fieldproof-receipt/v1' }));
}, 60_000);
afterAll(async () => {
  await database?.close();
});

function bundleFile(name: string, list: readonly Receipt[]): string {
  const file = path.join(dir, name);
  const bundle = {
    format: BUNDLE_FORMAT,
    createdAt: 0,
    log: { origin: null, treeSize: 6, publicKey: null },
    selection: { since: null, until: null, kind: null },
    receipts: list,
    count: list.length,
    skipped: 0,
  };
  fs.writeFileSync(file, JSON.stringify(bundle));
  return file;
}

async function run(args: string[], now: () => number) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(['verify', ...args], {}, { stdout, stderr, cwd: dir, now });
  return { code, stdout: out, stderr: err };
}

describe('fieldproof verify <bundle> progress', { timeout: 60_000 }, () => {
  it('reports on stderr once a second (by the injected clock), never on stdout', async () => {
    const file = bundleFile('six.json', receipts);
    let t = 1_000_000;
    const clock = () => (t += 600); // each look at the clock: 0.6 s later
    const res = await run([file], clock);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stderr).toBe(
      'verify: 2 receipts checked, 0 failed (1.2 s)\nverify: 4 receipts checked, 0 failed (2.4 s)\n',
    );
    expect(res.stdout).toMatch(/^bundle .*six\.json: 6 receipt\(s\), 6 verified, 0 failed/m);
    expect(res.stdout).not.toMatch(/receipts checked/);

    const frozen = await run([file], () => 1_000_000);
    expect(frozen.stderr).toBe(''); // a short bundle on a fast machine: no progress at all
  });

  it('reports every 1000 receipts however fast they go, and counts failures', async () => {
    const tampered = JSON.parse(JSON.stringify(receipts[0])) as { evidence: { occurredAt: number } };
    tampered.evidence.occurredAt += 1;
    const many = [
      tampered as unknown as Receipt,
      ...Array.from({ length: 2100 }, (_, i) => receipts[i % 6]!),
    ];
    const res = await run([bundleFile('many.json', many), '--json'], () => 1_000_000);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      'verify: 1000 receipts checked, 1 failed (0.0 s)\nverify: 2000 receipts checked, 1 failed (0.0 s)\n',
    );
    expect(JSON.parse(res.stdout)).toMatchObject({ summary: { total: 2101, failed: 1 } });
  });
});
