import { describe, expect, it } from 'vitest';
import { backoffMs, createTaskRunner } from '@fieldproof/keeper';
import type { KeeperTask } from '@fieldproof/keeper';
import { silentLogger } from './support.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const options = { logger: silentLogger, pollMs: 60_000, errorBackoff: { baseMs: 20, maxMs: 80 } };

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
    const runner = createTaskRunner(task, options);
    runner.start();
    await idle.promise;
    const stopping = performance.now();
    await runner.stop(); // idle sleep of 60 s must not delay this
    expect(performance.now() - stopping).toBeLessThan(1_000);
    expect(calls).toBe(5);
  });

  it('honours the task’s own idleMs', async () => {
    let calls = 0;
    const runner = createTaskRunner(
      { name: 't', idleMs: 10, runOnce: async () => (calls++, false) },
      options,
    );
    runner.start();
    while (calls < 3) await new Promise((r) => setTimeout(r, 5));
    await runner.stop();
    expect(calls).toBeGreaterThanOrEqual(3);
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
    await new Promise((r) => setTimeout(r, 20));
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
    const runner = createTaskRunner(task, options);
    runner.start();
    await new Promise((r) => setTimeout(r, 400));
    await runner.stop();
    // 20, 40, 80, 80, 80 … ms (±20 %): a handful of rounds in 400 ms, never a tight loop.
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(9);
  });

  it('backoffMs grows exponentially to the cap, with jitter', () => {
    const b = { baseMs: 100, maxMs: 1_000 };
    for (let i = 0; i < 50; i++) {
      expect(backoffMs(1, b)).toBeGreaterThanOrEqual(80);
      expect(backoffMs(1, b)).toBeLessThanOrEqual(120);
      expect(backoffMs(3, b)).toBeGreaterThanOrEqual(320);
      expect(backoffMs(3, b)).toBeLessThanOrEqual(480);
      expect(backoffMs(40, b)).toBeLessThanOrEqual(1_200);
      expect(backoffMs(40, b)).toBeGreaterThanOrEqual(800);
    }
  });
});
