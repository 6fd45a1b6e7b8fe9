import { once } from 'node:events';
import { LOG_META, getLogMeta, listEvidence } from '@fieldproof/db';
import type { Schema } from '@fieldproof/db';
import type { Kysely } from 'kysely';
import { NotSequencedError } from '../errors.js';
import { createReceiptReader, type ReceiptFormatName } from '../receipt/receipt-reader.js';
import { BUNDLE_FORMAT, type BundleSelection } from './bundle.js';

export interface BundleProgress {
  /** Receipts written so far. */
  readonly written: number;
  /** Selected records left out so far (not in the log yet). */
  readonly skipped: number;
  readonly elapsedMs: number;
  /** True on the last call, when the bundle is complete. */
  readonly done: boolean;
}

export interface WriteBundleOptions {
  readonly selection: BundleSelection;
  /** Receipt format of every receipt in the bundle; default `fieldproof-receipt/v2`. */
  readonly receiptFormat?: ReceiptFormatName;
  /** Export time (Unix ms) written into the bundle. */
  readonly now: number;
  /** Called every `progressEvery` receipts or `progressIntervalMs`, whichever comes first, and at the end. */
  readonly onProgress?: (progress: BundleProgress) => void;
  readonly progressEvery?: number;
  readonly progressIntervalMs?: number;
  /** Evidence rows read per query; default 500. */
  readonly pageSize?: number;
  /** Clock for progress timing; default `Date.now`. */
  readonly clock?: () => number;
}

export interface BundleSummary {
  readonly written: number;
  readonly skipped: number;
  readonly treeSize: number;
}

/**
 * Streams a `fieldproof-bundle/v1` of the receipts of the selected evidence to `out`, in `receivedAt`
 * order, one receipt per line. Memory stays flat: evidence is read a page at a time and each receipt is
 * written (honouring back-pressure) before the next is built. Every receipt proves inclusion against the
 * log as it was when the export started; evidence sequenced later is skipped and counted.
 */
export async function writeBundle(
  db: Kysely<Schema>,
  out: NodeJS.WritableStream,
  options: WriteBundleOptions,
): Promise<BundleSummary> {
  const { selection, now } = options;
  const clock = options.clock ?? Date.now;
  const every = options.progressEvery ?? 1000;
  const intervalMs = options.progressIntervalMs ?? 1000;
  const pageSize = options.pageSize ?? 500;
  const started = clock();
  let lastReport = started;

  const reader = await createReceiptReader(
    db,
    options.receiptFormat === undefined ? {} : { format: options.receiptFormat },
  );
  const origin = (await getLogMeta(db, LOG_META.origin)) ?? null;
  const header = {
    format: BUNDLE_FORMAT,
    createdAt: now,
    log: { origin, treeSize: reader.treeSize, publicKey: reader.verifierKey ?? null },
    selection,
  };
  const headerText = JSON.stringify(header);
  await write(out, `${headerText.slice(0, -1)},"receipts":[`);

  let written = 0;
  let skipped = 0;
  const report = (done: boolean) => {
    lastReport = clock();
    options.onProgress?.({ written, skipped, elapsedMs: lastReport - started, done });
  };
  let after: { key: number; id: string } | undefined;
  for (;;) {
    const page = await listEvidence(db, {
      sort: 'receivedAt',
      order: 'asc',
      limit: pageSize,
      after,
      kind: selection.kind ?? undefined,
      receivedFrom: selection.since ?? undefined,
      receivedTo: selection.until ?? undefined,
    });
    for (const row of page.rows) {
      let receipt;
      try {
        receipt = await reader.receiptOf(row);
      } catch (err) {
        if (!(err instanceof NotSequencedError)) throw err;
        skipped++;
        continue;
      }
      await write(out, `${written === 0 ? '\n' : ',\n'}${JSON.stringify(receipt)}`);
      written++;
      if (written % every === 0 || clock() - lastReport >= intervalMs) report(false);
    }
    const last = page.rows.at(-1);
    if (!page.more || last === undefined) break;
    after = { key: Number(last.received_at), id: last.id };
  }
  await write(out, `${written === 0 ? '' : '\n'}],"count":${written},"skipped":${skipped}}\n`);
  report(true);
  return { written, skipped, treeSize: reader.treeSize };
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}
