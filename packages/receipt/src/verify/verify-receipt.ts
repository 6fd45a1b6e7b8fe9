import { validateReceipt } from '../receipt/validate-receipt.js';
import type { Receipt } from '../receipt/receipt.js';
import { anchorLinkName, checkAnchors, type AnchorCheckOptions } from './anchor-links.js';
import { checkCheckpoint, checkContent, checkInclusion, checkLeaf, checkSignature } from './offline-links.js';
import {
  errorText,
  failed,
  ok,
  unchecked,
  verification,
  type LinkVerdict,
  type Verification,
} from './verdict.js';

export interface OfflineVerifyOptions {
  /** The record's content: checked against `evidence.digest`. */
  readonly content?: Uint8Array;
  /** The device verifier key the checkpoint must be signed by. Without it, the receipt's own key is used. */
  readonly expectedPublicKey?: string;
}

export type VerifyReceiptOptions = OfflineVerifyOptions & AnchorCheckOptions;

/**
 * Verifies every link of a receipt that needs no network: `format`, `content`, `leaf`, `inclusion`,
 * `checkpoint`, `signature`; anchors are reported `unchecked`. Never throws for a bad receipt.
 *
 * ```
 * content ─▶ digest ─▶ leaf hash ─▶ inclusion ─▶ checkpoint root ─▶ signature ─▶ anchors (online)
 * ```
 */
export function verifyReceiptOffline(receipt: unknown, options: OfflineVerifyOptions = {}): Verification {
  const checked = checkFormat(receipt);
  if (checked.receipt === undefined) return verification([checked.verdict]);
  const links = offlineLinks(checked.receipt, options);
  const anchors = checked.receipt.anchors.map((anchor) =>
    unchecked(anchorLinkName(anchor), 'offline verification: anchors need an RPC URL'),
  );
  return verification([checked.verdict, ...links, ...anchors]);
}

/**
 * Verifies every link of a receipt, one verdict per link; with `rpcUrls`, each anchor is checked on
 * its chain (see `checkAnchors`). `ok` is true when no link failed. Never throws for a bad receipt or
 * an unreachable node.
 */
export async function verifyReceipt(
  receipt: unknown,
  options: VerifyReceiptOptions = {},
): Promise<Verification> {
  const checked = checkFormat(receipt);
  if (checked.receipt === undefined) return verification([checked.verdict]);
  const links = offlineLinks(checked.receipt, options);
  const anchors = await checkAnchors(checked.receipt, options);
  return verification([checked.verdict, ...links, ...anchors]);
}

function checkFormat(value: unknown): { verdict: LinkVerdict; receipt?: Receipt } {
  try {
    const receipt = validateReceipt(value);
    return { verdict: ok('format', receipt.format), receipt };
  } catch (err) {
    return { verdict: failed('format', errorText(err)) };
  }
}

function offlineLinks(receipt: Receipt, options: OfflineVerifyOptions): LinkVerdict[] {
  const leaf = checkLeaf(receipt);
  return [
    checkContent(receipt, options.content),
    leaf.verdict,
    checkInclusion(receipt, leaf.leafHash),
    checkCheckpoint(receipt).verdict,
    checkSignature(receipt, options.expectedPublicKey),
  ];
}
