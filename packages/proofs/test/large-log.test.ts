import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Database } from '@fieldproof/db';
import { verifyReceiptOffline } from '@fieldproof/receipt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, tempDir, testEngines } from '../../../test/support/databases.js';
import { createLogFixture, type LogFixture } from '../../../test/support/log-fixture.js';
import { runNode } from '../../../test/support/processes.js';
import {
  BUNDLE_FORMAT,
  BundleFormatError,
  bundleReceipts,
  validateBundleEnvelope,
} from '@fieldproof/receipt';
import { receiptFor, writeBundle, type BundleProgress } from '../src/index.js';

const BIN = fileURLToPath(new URL('../../cli/bin/fieldproof.js', import.meta.url));
const LEAVES = 5000;
const BATCH = 250;

describe.each(testEngines())('a log of thousands of leaves (%s)', (engine) => {
  let database: Database;
  let log: LogFixture;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    log = await createLogFixture(database.db);
    for (let n = 0; n < LEAVES; n += BATCH) await log.appendBatch(BATCH);
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('builds and verifies each receipt well under a second', async () => {
    const picks = Array.from({ length: 100 }, (_, i) => Math.floor((i * 7919) % LEAVES));
    const times: number[] = [];
    for (const leafIndex of picks) {
      const record = log.records[leafIndex]!;
      const started = performance.now();
      const receipt = await receiptFor(database.db, record.id, { format: 'fieldproof-receipt/v1' });
      const result = verifyReceiptOffline(receipt, {
        content: record.content,
        expectedPublicKey: log.key.verifierKey,
      });
      times.push(performance.now() - started);
      expect(result.ok, `leaf ${leafIndex}`).toBe(true);
      expect(receipt.inclusion.proof.length).toBeLessThanOrEqual(13); // ⌈log2 5000⌉
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const max = times.at(-1)!;
    console.log(
      `[${engine}] receipt build + offline verify, ${LEAVES} leaves: median ${median.toFixed(2)} ms, max ${max.toFixed(2)} ms`,
    );
    expect(max).toBeLessThan(1000);
  });

  it('exports every receipt as one streamed bundle, with progress', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const progress: BundleProgress[] = [];
    const started = performance.now();
    const summary = await writeBundle(database.db, out, {
      receiptFormat: 'fieldproof-receipt/v1',
      selection: { since: null, until: null, kind: null },
      now: 1_760_000_000_000,
      onProgress: (p) => progress.push(p),
      progressEvery: 1000,
      clock: () => 0, // time stands still: only the count triggers progress here
    });
    out.end();
    const elapsed = performance.now() - started;
    console.log(`[${engine}] export of ${LEAVES} receipts: ${elapsed.toFixed(0)} ms`);
    expect(summary).toEqual({ written: LEAVES, skipped: 0, treeSize: LEAVES });
    expect(progress.filter((p) => !p.done).map((p) => p.written)).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(progress.at(-1)).toMatchObject({ written: LEAVES, done: true });

    const text = Buffer.concat(chunks).toString('utf8');
    expect(text.split('\n')).toHaveLength(LEAVES + 3); // header line, one line per receipt, trailer, final newline
    const bundle = JSON.parse(text) as unknown;
    const envelope = validateBundleEnvelope(bundle);
    expect(envelope).toMatchObject({
      format: BUNDLE_FORMAT,
      createdAt: 1_760_000_000_000,
      log: { origin: 'fieldproof.test/unit-9', treeSize: LEAVES, publicKey: log.key.verifierKey },
      count: LEAVES,
      skipped: 0,
    });
    const receipts = bundleReceipts(bundle);
    expect(receipts.map((r) => r.evidence.id)).toEqual(log.records.map((r) => r.id));
    for (const [i, receipt] of receipts.entries()) {
      if (i % 97 !== 0) continue;
      expect(verifyReceiptOffline(receipt, { content: log.records[i]!.content }).ok).toBe(true);
    }
  });

  // The built CLI (`npm run build` first) on a bundle of thousands: one process, every receipt checked.
  it.runIf(engine === 'sqlite')('the built cli verifies a bundle of thousands of receipts', async () => {
    const file = path.join(tempDir('fieldproof-bundle-'), 'bundle.json');
    const out = fs.createWriteStream(file);
    await writeBundle(database.db, out, {
      selection: { since: null, until: null, kind: null },
      now: 1,
      receiptFormat: 'fieldproof-receipt/v1',
    });
    out.end();
    await new Promise<void>((resolve) => out.on('close', () => resolve()));
    const started = performance.now();
    const result = await runNode([BIN, 'verify', file, '--expect-key', log.key.verifierKey, '--json'], {});
    const elapsed = performance.now() - started;
    console.log(
      `[${engine}] fieldproof verify of a ${LEAVES}-receipt bundle (${(fs.statSync(file).size / 1e6).toFixed(1)} MB): ${elapsed.toFixed(0)} ms`,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      summary: { total: LEAVES, verified: LEAVES, failed: 0 },
    });
  });

  it('reports progress every interval on a slow run, however few receipts it wrote', async () => {
    let t = 0;
    const progress: BundleProgress[] = [];
    const sink = new PassThrough();
    sink.resume();
    await writeBundle(database.db, sink, {
      receiptFormat: 'fieldproof-receipt/v1',
      selection: { since: null, until: null, kind: 'detection' },
      now: 1,
      onProgress: (p) => progress.push(p),
      progressEvery: 1_000_000,
      progressIntervalMs: 1000,
      clock: () => (t += 250), // each look at the clock: a quarter second later
    });
    const reports = progress.filter((p) => !p.done);
    expect(reports.length).toBeGreaterThan(100);
    expect(reports.every((p, i) => i === 0 || p.elapsedMs - reports[i - 1]!.elapsedMs >= 1000)).toBe(true);
  });

  it('exports a selection by kind and time range, and counts what is not in the log yet', async () => {
    const from = log.records[100]!.receivedAt;
    const to = log.records[400]!.receivedAt;
    await log.recordUnsequenced(3);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const summary = await writeBundle(database.db, out, {
      receiptFormat: 'fieldproof-receipt/v1',
      selection: { since: from, until: to, kind: 'detection' },
      now: 1,
      pageSize: 37,
    });
    const expected = log.records.filter(
      (r) => r.kind === 'detection' && r.receivedAt >= from && r.receivedAt < to,
    );
    expect(summary.written).toBe(expected.length);
    const receipts = bundleReceipts(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    expect(receipts.map((r) => r.evidence.id)).toEqual(expected.map((r) => r.id));

    const all = new PassThrough();
    all.resume();
    expect(
      (
        await writeBundle(database.db, all, {
          selection: { since: null, until: null, kind: null },
          now: 1,
          receiptFormat: 'fieldproof-receipt/v1',
        })
      ).skipped,
    ).toBe(3);
  });

  it('refuses a bundle whose count does not match its receipts, and an empty one', () => {
    const bundle = { format: BUNDLE_FORMAT, receipts: [{}, {}], count: 3 };
    expect(() => validateBundleEnvelope(bundle)).toThrow(BundleFormatError);
    expect(() => validateBundleEnvelope({ format: 'x' })).toThrow(/bundle.format/);
    expect(() => validateBundleEnvelope({ format: BUNDLE_FORMAT, receipts: [], count: 0 })).toThrow(
      /bundle.receipts: holds no receipts/,
    );
  });
});
