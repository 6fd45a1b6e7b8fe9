import fs from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { loadConfig } from '@fieldproof/config';
import { assertMigrationsCurrent, createDatabase, redactUrl } from '@fieldproof/db';
import { writeBundle } from '@fieldproof/proofs';
import type { BundleSelection } from '@fieldproof/receipt';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

/**
 * `fieldproof export`: a `fieldproof-bundle/v1` of receipts, read straight from the database (works on
 * the device, offline, while api and keeper run), streamed to a file that appears only when complete.
 */
export const exportCommand: Command = {
  usage: `fieldproof export --out FILE (--all | [--since TIME] [--until TIME] [--kind KIND]) [--receipt-format v1|v2] [--quiet]
      Reads the database (API_DB_URL / KEEPER_DB_URL) and writes one fieldproof-bundle/v1 JSON file: every
      selected record's receipt, one per line, each proving inclusion against the log as it was when the
      export started. Records not sequenced yet are skipped and counted. Verify with "fieldproof verify FILE".
      --out FILE      the bundle; written to FILE.partial and renamed when complete ("-" for stdout)
      --all           every record
      --since TIME    receivedAt ≥ TIME: ISO 8601 (2025-06-01, 2025-06-01T12:00Z; no zone = UTC) or Unix ms
      --until TIME    receivedAt < TIME
      --kind KIND     only records of this kind
      --receipt-format v2 (default): fieldproof-receipt/v2, anchors proven by their block header (offline),
                      witness cosignatures; v1: fieldproof-receipt/v1, for holders of a verifier older than v2
      --quiet         no progress lines on stderr (otherwise: every 1000 receipts or every second)`,
  example: `fieldproof export --out unit-7-june.json --since 2025-06-01 --until 2025-07-01
API_DB_URL=sqlite:///var/lib/fieldproof/fieldproof.sqlite3 fieldproof export --all --out /media/usb/unit-7.json`,
  options: {
    out: { type: 'string' },
    all: { type: 'boolean' },
    since: { type: 'string' },
    until: { type: 'string' },
    kind: { type: 'string' },
    quiet: { type: 'boolean' },
    'receipt-format': { type: 'string' },
  },
  async run({ positionals, values, env, cwd, stdout, stderr }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const out = typeof values.out === 'string' ? values.out : undefined;
    if (out === undefined || out === '') throw new UsageError('--out FILE is required');
    const selection = selectionOf(values);
    const quiet = values.quiet === true;
    const formatFlag = values['receipt-format'];
    if (formatFlag !== undefined && formatFlag !== 'v1' && formatFlag !== 'v2') {
      throw new UsageError(`--receipt-format ${String(formatFlag)}: expected v1 or v2`);
    }
    const receiptFormat = formatFlag === 'v1' ? 'fieldproof-receipt/v1' : 'fieldproof-receipt/v2';

    const { config } = loadConfig(env, cwd);
    const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
    const target = out === '-' ? undefined : path.resolve(cwd, out);
    const partial = target === undefined ? undefined : `${target}.partial`;
    try {
      await assertMigrationsCurrent(database);
      let fd: number | undefined;
      if (partial !== undefined) {
        try {
          fd = fs.openSync(partial, 'wx', 0o644);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          stderr.write(
            `fieldproof export: ${partial} exists: another export to ${out} is running, or one was interrupted (then remove it)\n`,
          );
          return 1;
        }
      }
      const sink = fd === undefined ? stdout : fs.createWriteStream('', { fd });
      const progress = (p: { written: number; skipped: number; elapsedMs: number; done: boolean }) => {
        if (!quiet && !p.done) {
          stderr.write(
            `export: ${p.written} receipts written, ${p.skipped} skipped (${(p.elapsedMs / 1000).toFixed(1)} s)\n`,
          );
        }
      };
      let summary;
      try {
        summary = await writeBundle(database.db, sink, {
          selection,
          receiptFormat,
          now: Date.now(),
          onProgress: progress,
        });
        if (sink !== stdout) {
          const file = sink as fs.WriteStream;
          file.end();
          await finished(file);
          // Durable before it gets its final name: a bundle under FILE is always complete.
          const check = fs.openSync(partial!, 'r');
          try {
            fs.fsyncSync(check);
          } finally {
            fs.closeSync(check);
          }
          fs.renameSync(partial!, target!);
        }
      } catch (err) {
        if (partial !== undefined) fs.rmSync(partial, { force: true });
        throw err;
      }
      if (!quiet || summary.skipped > 0) {
        stderr.write(
          `exported ${summary.written} receipt(s) of ${redactUrl(config.database.target.url)} (log tree size ${summary.treeSize})` +
            `${target === undefined ? '' : ` to ${target}`}` +
            `${summary.skipped > 0 ? `; ${summary.skipped} selected record(s) are not in the log yet and were left out` : ''}\n`,
        );
      }
      return 0;
    } finally {
      await database.close();
    }
  },
};

function selectionOf(values: Readonly<Record<string, unknown>>): BundleSelection {
  const since = timeOf(values.since, '--since');
  const until = timeOf(values.until, '--until');
  const kind = typeof values.kind === 'string' ? values.kind : null;
  if (kind === '') throw new UsageError('--kind must not be empty');
  const filtered = since !== null || until !== null || kind !== null;
  if (values.all === true && filtered)
    throw new UsageError('--all exports every record: leave out --since, --until and --kind');
  if (values.all !== true && !filtered)
    throw new UsageError('say what to export: --all, or --since/--until/--kind');
  if (since !== null && until !== null && since >= until)
    throw new UsageError('--since must be before --until');
  return { since, until, kind };
}

/** ISO 8601 (without a zone: UTC; a date alone: UTC midnight) or Unix milliseconds. */
function timeOf(value: unknown, flag: string): number | null {
  if (typeof value !== 'string') return null;
  const iso = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:\d{2})?)?$/.exec(
    value,
  );
  // A date or time without a zone is UTC, whatever the machine's time zone.
  const ms = /^[0-9]{1,16}$/.test(value)
    ? Number(value)
    : iso !== null
      ? Date.parse(`${iso[1]}T${iso[2] ?? '00:00'}${iso[3] ?? 'Z'}`)
      : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new UsageError(
      `${flag} ${value}: expected an ISO 8601 time (2025-06-01, 2025-06-01T12:00:00Z) or Unix ms`,
    );
  }
  return ms;
}
