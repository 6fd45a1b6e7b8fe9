import { setImmediate as nextTurn, setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { KeeperTask } from './task.js';

export interface TaskRunnerOptions {
  readonly logger: Logger;
  /** Sleep after a round that found no work, unless the task sets `idleMs`. */
  readonly pollMs: number;
  /** Backoff after a failed round: base·2^(failures−1), capped at maxMs, with ±20 % jitter. */
  readonly errorBackoff: { readonly baseMs: number; readonly maxMs: number };
}

/** Runs one task's `runOnce()` in a loop until stopped. */
export interface TaskRunner {
  readonly task: KeeperTask;
  start(): void;
  /** Stops the loop at once (an idle sleep is cut short) and resolves after the in-flight round ended. */
  stop(): Promise<void>;
}

/**
 * The loop a keeper task lives in:
 *
 * ```text
 *   ┌─▶ runOnce() ── did work ──▶ yield one event-loop turn ─┐
 *   │        │ idle                                            │
 *   │        ├──────▶ sleep idleMs ?? pollMs ─────────────────┤
 *   │        │ threw                                           │
 *   │        └──────▶ log, sleep backoff(failures) ────────────┤
 *   └──────────────────────────────────────────────────────────┘   (every sleep ends early on stop())
 * ```
 *
 * A failing task never spins: each failure waits longer, up to the cap, and the first success resets it.
 */
export function createTaskRunner(task: KeeperTask, options: TaskRunnerOptions): TaskRunner {
  const log = options.logger.child({ task: task.name });
  const controller = new AbortController();
  let loop: Promise<void> | undefined;

  async function run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let didWork: boolean;
      try {
        didWork = await task.runOnce();
        if (failures > 0) log.info({ failures }, 'task recovered');
        failures = 0;
      } catch (err) {
        failures++;
        const delayMs = backoffMs(failures, options.errorBackoff);
        log.error({ err, failures, retryInMs: delayMs }, 'task round failed');
        await sleep(delayMs, signal);
        continue;
      }
      if (didWork)
        await nextTurn(); // let timers and I/O (health checks) in between busy rounds
      else await sleep(task.idleMs ?? options.pollMs, signal);
    }
  }

  return {
    task,
    start() {
      if (loop !== undefined) throw new Error(`task ${task.name} already started`);
      loop = run(controller.signal);
    },
    async stop() {
      controller.abort();
      await loop;
    },
  };
}

/** Capped exponential backoff with ±20 % jitter (so several keepers do not retry in lockstep). */
export function backoffMs(
  failures: number,
  backoff: { readonly baseMs: number; readonly maxMs: number },
): number {
  const exponential = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(exponential * (0.8 + 0.4 * Math.random()));
}

/** Sleeps `ms`, or less if `signal` aborts; never rejects. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleepFor(ms, undefined, { signal });
  } catch {
    // aborted: stop() wants the loop to end now
  }
}
