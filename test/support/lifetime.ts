import { onTestFinished } from 'vitest';

/**
 * Clean-up that runs however the test ends (graphile-worker's `withPgClient` and friends): the returned
 * object is closed when the current test finishes, passed or failed, so a failing assertion never leaks
 * a thread, a timer or a connection into the next test. Call inside a test.
 */
export function closedAfterTest<T extends { close(): Promise<void> | void }>(resource: T): T {
  onTestFinished(async () => {
    await resource.close();
  });
  return resource;
}
