import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The one polling helper of the tests (graphile-worker's __tests__/helpers.ts has the same): asks `probe`
 * until it answers a value — `undefined` and `false` mean "not yet", and so does a thrown error (a
 * server not listening yet) — and returns that value. Waits are between tries, never a fixed sleep
 * before an assertion, so a slow or loaded machine only makes a test slower, never wrong.
 */
export interface WaitOptions {
  /** Give up after this long (default 30 s); the error names `what` and adds `explain()`. */
  readonly timeoutMs?: number;
  /** Pause between tries (default 20 ms). */
  readonly intervalMs?: number;
  /** Runs between tries, e.g. mining a block so that the chain moves on. */
  readonly between?: () => Promise<unknown>;
  /** More context for the timeout error (e.g. the child processes' output). */
  readonly explain?: () => string;
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const more = options.explain?.();
      throw new Error(`timed out waiting for ${what}${cause}${more === undefined ? '' : `\n${more}`}`);
    }
    await options.between?.();
    await sleep(options.intervalMs ?? 20);
  }
}
