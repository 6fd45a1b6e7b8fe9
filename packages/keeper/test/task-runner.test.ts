import { describe, expect, it } from 'vitest';
import { backoffDelay, createTaskRunner } from '@fieldproof/keeper';
import type { KeeperTask } from '@fieldproof/keeper';
import { silentLogger } from './support.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const options = { logger: silentLogger, pollMs: 60_000, errorBackoff: { baseMs: 20, maxMs: 80 } };

/**
 * The loop's waits, recorded instead of slept: each resolves when the test releases it or the runner's
 * stop() aborts it — no assertion here depends on how fast the machine is.
 */
function recordedSleeps() {
  const waits: { ms: number; aborted: boolean }[] = [];
  let onWait: (() => void) | undefined;
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const wait = { ms, aborted: false };
      waits.push(wait);
      onWait?.();
      const end = () => {
        wait.aborted = true;
        resolve();
      };
      if (signal.aborted) end();
      else signal.addEventListener('abort', end, { once: true });
    });
  /** Resolves once `n` waits have begun. */
  const untilWaits = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (waits.length >= n) resolve();
      };
      onWait = check;
      check();
    });
  return { waits, sleep, untilWaits };
}

describe('task runner', () => {
  it('runs again at once after work, sleeps when idle, and stop() cuts the idle sleep short', async () => {
    let calls = 0;
    const idle = deferred();
    const task: KeeperTask = {
      name: 't',
      async runOnce() {
        calls++;
        if (calls < 5) return true;
        idle.resolve();
        return false;
      },
    };
    const clock = recordedSleeps();
    const runner = createTaskRunner(task, { ...options, sleep: clock.sleep });
    runner.start();
    await idle.promise;
    await clock.untilWaits(1);
    await runner.stop(); // the idle sleep of 60 s ends when stop() aborts it
    expect(calls).toBe(5);
    expect(clock.waits).toEqual([{ ms: 60_000, aborted: true }]); // no sleep between the 4 busy rounds
  });

  it('honours the task’s own idleMs', async () => {
    const clock = recordedSleeps();
    const runner = createTaskRunner(
      { name: 't', idleMs: 10, runOnce: async () => false },
      { ...options, sleep: clock.sleep },
    );
    runner.start();
    await clock.untilWaits(1);
    await runner.stop();
    expect(clock.waits.map((w) => w.ms)).toEqual([10]);
  });

  it('stop() awaits the in-flight round', async () => {
    const inFlight = deferred();
    const started = deferred();
    let finished = false;
    const task: KeeperTask = {
      name: 't',
      async runOnce() {
        started.resolve();
        await inFlight.promise;
        finished = true;
        return true;
      },
    };
    const runner = createTaskRunner(task, options);
    runner.start();
    await started.promise;
    let stopped = false;
    const stop = runner.stop().then(() => (stopped = true));
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); // let stop() run as far as it can
    expect(stopped).toBe(false);
    inFlight.resolve();
    await stop;
    expect(finished).toBe(true);
  });

  it('backs off after failures instead of spinning', async () => {
    let calls = 0;
    const task: KeeperTask = {
      name: 'failing',
      async runOnce() {
        calls++;
        throw new Error('boom');
      },
    };
    const clock = recordedSleeps();
    // Each failed round waits; the loop resumes only when its wait resolves (here: at once).
    const sleep = (ms: number, signal: AbortSignal) =>
      clock.waits.length < 5
        ? (clock.waits.push({ ms, aborted: false }), Promise.resolve())
        : clock.sleep(ms, signal);
    const runner = createTaskRunner(task, { ...options, sleep, random: () => 1 });
    runner.start();
    await clock.untilWaits(6);
    await runner.stop();
    // The keeper's one backoff formula (backoffDelay), upper end of its jitter: 20, 40, 80, 80, 80 … ms.
    expect(clock.waits.map((w) => w.ms)).toEqual([20, 40, 80, 80, 80, 80]);
    expect(calls).toBe(6);
    // …and its lower end: half of each.
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 20, 80, () => 0))).toEqual([10, 20, 40, 40]);
  });
});
