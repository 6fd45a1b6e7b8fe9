import type { FieldproofConfig, Secrets } from '@fieldproof/config';
import type { Database } from '@fieldproof/db';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/**
 * A unit of keeper work. The task runner calls `runOnce()` in a loop: when it reports no work it sleeps
 * `config.keeper.pollMs` (or the task's own `idleMs`), otherwise it runs again at once. Tests drive
 * `runOnce()` directly — no sleeps in tests.
 *
 * `runOnce()` must check cheaply for work (a plain read) before it takes the write lock: an idle keeper
 * must not hurt the api's commits.
 */
export interface KeeperTask {
  readonly name: string;
  /** Sleep between idle polls; default config.keeper.pollMs. */
  readonly idleMs?: number;
  /** Does one bounded round of work; resolves true when it did something (so it may run again at once). */
  runOnce(): Promise<boolean>;
  /** Releases what the task holds (providers, timers). Called after the runner stopped calling runOnce. */
  close?(): Promise<void>;
}

/** What every keeper task is built from. */
export interface KeeperDeps {
  readonly database: Database;
  readonly config: FieldproofConfig;
  readonly secrets: Secrets;
  readonly logger: Logger;
  /** The keeper's metrics registry (served on /metrics). */
  readonly registry: Registry;
  readonly now: () => number;
}
