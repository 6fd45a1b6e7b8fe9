/**
 * Capped exponential backoff with full jitter in its upper half: attempt n (1-based) waits a random time
 * in [d/2, d] where d = min(maxMs, baseMs · 2^(n−1)). The lower bound keeps retries from bunching at
 * zero; the jitter spreads keepers that failed together.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(Math.max(attempt, 1) - 1, 40);
  const d = Math.min(maxMs, baseMs * 2 ** exp);
  return Math.max(1, Math.round(d / 2 + (random() * d) / 2));
}
