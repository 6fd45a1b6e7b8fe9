import { ReceiptError } from '../errors.js';
import type { Receipt } from '../receipt/receipt.js';
import { validateReceipt } from '../receipt/validate-receipt.js';

/** Version tag of a receipt bundle. */
export const BUNDLE_FORMAT = 'fieldproof-bundle/v1';

/** Which evidence an export selected; `null` means no bound. Times are Unix ms on `receivedAt`. */
export interface BundleSelection {
  /** Inclusive lower bound on `receivedAt`. */
  readonly since: number | null;
  /** Exclusive upper bound on `receivedAt`. */
  readonly until: number | null;
  readonly kind: string | null;
}

/**
 * A set of receipts for an auditor (docs/RECEIPTS.md): one JSON object, written as a stream with one
 * receipt per line. Everything but `receipts` is informative; each receipt is verified on its own.
 *
 * ```json
 * {"format":"fieldproof-bundle/v1","createdAt":…,"log":{"origin":…,"treeSize":…,"publicKey":…},
 *  "selection":{"since":…,"until":…,"kind":…},"receipts":[
 * {…receipt…},
 * {…receipt…}
 * ],"count":2,"skipped":0}
 * ```
 */
export interface Bundle {
  readonly format: typeof BUNDLE_FORMAT;
  /** When the export started (Unix ms). */
  readonly createdAt: number;
  /** The log the receipts come from, as the exporting device saw it; `null` fields when it had none. */
  readonly log: {
    readonly origin: string | null;
    readonly treeSize: number;
    readonly publicKey: string | null;
  };
  readonly selection: BundleSelection;
  readonly receipts: readonly Receipt[];
  /** Number of receipts: a check that the file is complete. */
  readonly count: number;
  /** Selected evidence left out because it was not in the log yet. */
  readonly skipped: number;
}

/** A document that is not a well-formed `fieldproof-bundle/v1` (bad receipts are reported per receipt). */
export class BundleFormatError extends ReceiptError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Whether `value` claims to be a bundle (its `format` field), as opposed to a single receipt. */
export function isBundle(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && (value as { format?: unknown }).format === BUNDLE_FORMAT
  );
}

/**
 * Checks the bundle's envelope and returns its receipts as they are (`unknown`: each goes through
 * `verifyReceipt`, which reports a malformed one as its `format` link). Throws {@link BundleFormatError},
 * also for a bundle with no receipts (an export whose selection matched nothing verifies nothing).
 */
export function validateBundleEnvelope(value: unknown): Omit<Bundle, 'receipts'> & { receipts: unknown[] } {
  if (!isBundle(value)) throw new BundleFormatError('bundle.format', `expected "${BUNDLE_FORMAT}"`);
  const b = value as Record<string, unknown>;
  if (!Array.isArray(b.receipts)) throw new BundleFormatError('bundle.receipts', 'expected an array');
  // An empty bundle is well-formed but proves nothing: a verifier that passed it would vouch for nothing.
  if (b.receipts.length === 0) {
    throw new BundleFormatError('bundle.receipts', 'holds no receipts: there is nothing to verify');
  }
  if (b.count !== b.receipts.length) {
    throw new BundleFormatError(
      'bundle.count',
      `says ${JSON.stringify(b.count)} receipts, the bundle holds ${b.receipts.length}: it is incomplete or altered`,
    );
  }
  return value as Omit<Bundle, 'receipts'> & { receipts: unknown[] };
}

/** Validates a receipt of a bundle (`validateReceipt`), for callers that want typed receipts. */
export function bundleReceipts(value: unknown): Receipt[] {
  return validateBundleEnvelope(value).receipts.map((r) => validateReceipt(r));
}
