import type { FieldproofConfig } from '@fieldproof/config';
import type { Logger } from 'pino';
import type { KeeperTask } from '../task.js';
import type { AnchorPoint } from './anchor-context.js';

/** What createKeeper composes: the anchoring tasks, their readiness, and their disposal. */
export interface Anchoring {
  /** `anchor-scheduler` plus one `anchor:<chain>` task per chain; empty with the stub provider. */
  readonly tasks: readonly KeeperTask[];
  /**
   * Not ok while a chain is halted, its RPC has been failing longer than `rpcDownReadyMs`, its signer
   * cannot pay for one anchor at the current fees, or it lost a final anchor that no new final anchor
   * covers yet. A chain that is ok names the newest finalized block the keeper has seen on it.
   */
  readiness(): { ok: boolean; detail: string };
  /** Stops the re-check schedule and aborts RPC requests in flight. Call after the runner stopped. */
  close(): Promise<void>;
}

/** The chains the configured provider anchors on: none with the stub provider. */
export function anchoredChains(settings: FieldproofConfig['keeper']): FieldproofConfig['keeper']['chains'] {
  return settings.provider === 'stub' ? [] : settings.chains;
}

/** No chain: no jobs, no tasks — checkpoints are not anchored anywhere, and a warning says so. */
export function stubAnchoring(logger: Logger): Anchoring {
  logger.warn(
    'KEEPER_PROVIDER=stub: checkpoints are NOT anchored on any chain and never final (no anchor jobs are created); set KEEPER_PROVIDER=evm or multi and KEEPER_CHAINS to anchor',
  );
  return {
    tasks: [],
    readiness: () => ({ ok: true, detail: 'anchoring: stub provider, not anchoring on any chain' }),
    close: async () => undefined,
  };
}

/** Test seams; production passes nothing. */
export interface AnchoringOptions {
  /** Lease owner id (default `<host>:<pid>:<random>`). */
  readonly owner?: string;
  readonly random?: () => number;
  /**
   * Runs at each named point of a step: the crash-safety tests SIGKILL their process there
   * (test/support/anchor-child.mjs), others re-claim the job from under the worker.
   */
  readonly atPoint?: (point: AnchorPoint, chain: string) => void | Promise<void>;
}
