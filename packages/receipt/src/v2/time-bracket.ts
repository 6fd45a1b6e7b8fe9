import { LEAF_FORMAT_V2 } from '../leaf/encode-leaf-data.js';
import type { ReceiptEvidence } from '../receipt/receipt.js';

/**
 * A block as a time reference: "after this block" (not before) or "no later than this block" (not after).
 * The one shape both ends of a record's time bracket use.
 */
export interface BlockRef {
  readonly chainId: number;
  readonly number: number;
  /** `0x` + 64 lowercase hex digits. */
  readonly hash: string;
  /** Header timestamp, Unix ms. */
  readonly timestamp: number;
}

/**
 * The "not before" end (issue 14, leaf format `fieldproof-leaf/v2`): the newest finalized block the api
 * knew when it took the record in, read from the evidence the leaf is rebuilt from, so the leaf hash
 * covers it. A `fieldproof-leaf/v1` leaf, or a v2 leaf of a unit that had not reached a chain, carries
 * none: undefined.
 */
export function notBeforeOf(evidence: ReceiptEvidence, leafFormat: string): BlockRef | undefined {
  if (leafFormat !== LEAF_FORMAT_V2 || evidence.leafFormat !== LEAF_FORMAT_V2) return undefined;
  return evidence.notBefore ?? undefined;
}

/** What `fieldproof verify` prints per record. */
export interface TimeBracket {
  /** The record was written after this block (from the leaf), when the leaf says. */
  readonly notBefore?: BlockRef;
  /** The record existed no later than this block: the earliest anchor block proven by its header. */
  readonly notAfter: BlockRef;
  /** Whether `notAfter` is known to be canonical (`--trusted-blocks` or `--rpc`), not only self-consistent. */
  readonly canonical: boolean;
  /** notAfter − notBefore, ms, when both ends are known. */
  readonly widthMs?: number;
  /** The device's claim. */
  readonly occurredAt: number;
  /** 0 when occurredAt is inside the bracket; else by how much it is before (< 0) or after (> 0), ms. */
  readonly occurredOutsideByMs: number;
}

export function timeBracket(
  occurredAt: number,
  notAfter: BlockRef,
  canonical: boolean,
  notBefore: BlockRef | undefined,
): TimeBracket {
  let outside = 0;
  if (occurredAt > notAfter.timestamp) outside = occurredAt - notAfter.timestamp;
  else if (notBefore !== undefined && occurredAt < notBefore.timestamp)
    outside = occurredAt - notBefore.timestamp;
  return {
    ...(notBefore === undefined ? {} : { notBefore, widthMs: notAfter.timestamp - notBefore.timestamp }),
    notAfter,
    canonical,
    occurredAt,
    occurredOutsideByMs: outside,
  };
}

/** One line: "after block N (time), no later than block M (time), width W; occurredAt … inside". */
export function describeBracket(b: TimeBracket): string {
  const block = (r: BlockRef) => `block ${r.number} of chain ${r.chainId} (${iso(r.timestamp)})`;
  const ends =
    b.notBefore === undefined
      ? `no later than ${block(b.notAfter)} (the leaf names no earlier block)`
      : `after ${block(b.notBefore)}, no later than ${block(b.notAfter)}, width ${duration(b.widthMs!)}`;
  const claim =
    b.occurredOutsideByMs === 0
      ? 'inside'
      : b.occurredOutsideByMs > 0
        ? `OUTSIDE: ${duration(b.occurredOutsideByMs)} after the anchoring block`
        : `OUTSIDE: ${duration(-b.occurredOutsideByMs)} before the not-before block`;
  const caveat = b.canonical ? '' : ' — the block is not checked canonical (give --trusted-blocks or --rpc)';
  return `${ends}; occurredAt ${iso(b.occurredAt)} ${claim}${caveat}`;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? `${ms} ms` : d.toISOString();
}

export function duration(ms: number): string {
  const s = Math.abs(ms) / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 3 : 0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}
