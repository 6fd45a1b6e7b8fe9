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

/** The chains the configured provider anchors on: none with the stub or collector provider. */
export function anchoredChains(settings: FieldproofConfig['keeper']): FieldproofConfig['keeper']['chains'] {
  return settings.provider === 'stub' || settings.provider === 'collector' ? [] : settings.chains;
}

/**
 * No chain of this keeper's own: no jobs, no tasks. With `KEEPER_PROVIDER=collector` the checkpoints are
 * anchored through the fleet collectors (their fleet proofs come back through the push channel); with the
 * stub provider they are not anchored anywhere, and a warning says so.
 */
export function stubAnchoring(logger: Logger, settings: FieldproofConfig['keeper']): Anchoring {
  if (settings.provider === 'collector') {
    const fleet = settings.collectors.filter((c) => c.fleetKey !== undefined).map((c) => c.name);
    logger.info(
      { collectors: fleet },
      'KEEPER_PROVIDER=collector: no chain, no signer key, no anchor jobs; checkpoints are anchored through the fleet collectors, whose fleet proofs this keeper fetches',
    );
    return {
      tasks: [],
      readiness: () => ({ ok: true, detail: `anchoring: through the fleet collectors ${fleet.join(', ')}` }),
      close: async () => undefined,
    };
  }
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
