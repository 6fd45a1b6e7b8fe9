import { setImmediate as nextTurn, setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffDelay } from './backoff.js';
import type { KeeperTask } from './task.js';

export interface TaskRunnerOptions {
  readonly logger: Logger;
  /** Sleep after a round that found no work, unless the task sets `idleMs`. */
  readonly pollMs: number;
  /** Backoff after a failed round: `backoffDelay` (the keeper's one formula) of the failures in a row. */
  readonly errorBackoff: { readonly baseMs: number; readonly maxMs: number };
  /** The backoff's jitter source (default Math.random). */
  readonly random?: () => number;
  /**
   * How the loop waits: `ms`, or less when `signal` aborts; never rejects. Default: a real timer. Tests
   * pass their own to see every wait without waiting in real time.
   */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
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
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
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
        const { baseMs, maxMs } = options.errorBackoff;
        const delayMs = backoffDelay(failures, baseMs, maxMs, random);
        log.error({ err, failures, retryInMs: delayMs }, 'task round failed');
        await wait(delayMs, signal);
        continue;
      }
      if (didWork)
        await nextTurn(); // let timers and I/O (health checks) in between busy rounds
      else await wait(task.idleMs ?? options.pollMs, signal);
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

/** Sleeps `ms`, or less if `signal` aborts; never rejects. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleepFor(ms, undefined, { signal });
  } catch {
    // aborted: stop() wants the loop to end now
  }
}
