import type { TimeBracket } from '../v2/time-bracket.js';

/** Outcome of one link: checked and holds, checked and broken, or not checked (and why). */
export type LinkStatus = 'ok' | 'failed' | 'unchecked';

/**
 * One verdict. Links are `format`, `content`, `leaf`, `inclusion`, `checkpoint`, `signature`, and
 * `anchor:<chainId>:<txHash>` per anchor (`verifyConsistencyBetween` uses `old-checkpoint`,
 * `new-checkpoint`, `consistency`).
 */
export interface LinkVerdict {
  readonly link: string;
  readonly status: LinkStatus;
  /** One line a person can act on. */
  readonly detail: string;
}

export interface Verification {
  /** True when no link failed: every link that was checked holds. */
  readonly ok: boolean;
  readonly links: readonly LinkVerdict[];
  /** v2 receipts with a proven anchor: when the record existed (docs/RECEIPTS.md, "Time bracket"). */
  readonly bracket?: TimeBracket;
}

export const ok = (link: string, detail: string): LinkVerdict => ({ link, status: 'ok', detail });
export const failed = (link: string, detail: string): LinkVerdict => ({ link, status: 'failed', detail });
export const unchecked = (link: string, detail: string): LinkVerdict => ({
  link,
  status: 'unchecked',
  detail,
});

export function verification(links: readonly LinkVerdict[]): Verification {
  return { ok: links.every((l) => l.status !== 'failed'), links };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
