import type { ChainConfig, FieldproofConfig } from '@fieldproof/config';
import type { Database } from '@fieldproof/db';
import type { Logger } from 'pino';
import type { AnchorSigner } from '../chain/anchor-signer.js';
import type { EvmChainClient } from '../chain/evm-chain-client.js';
import type { RpcHealth } from '../chain/rpc-health.js';
import type { AnchorMetrics } from './anchor-metrics.js';

/**
 * Named points inside one anchoring step, between a durable write and the network call after it (or
 * the other way round). Tests pass a callback that runs there (`AnchoringOptions.atPoint`): to kill the
 * process at one of them (test/anchor-crash.test.ts), or to re-claim the job from under the worker. `before-proof`: an anchor
 * was found final, its proof is about to be fetched from the node.
 */
export type AnchorPoint = 'after-persist' | 'after-broadcast' | 'before-proof';

/** Everything one chain's anchoring work needs. */
export interface ChainContext {
  readonly chain: ChainConfig;
  readonly client: EvmChainClient;
  readonly health: RpcHealth;
  readonly signer: AnchorSigner;
  readonly database: Database;
  readonly settings: FieldproofConfig['keeper'];
  readonly logger: Logger;
  readonly metrics: AnchorMetrics;
  readonly now: () => number;
  readonly random: () => number;
  /** Who holds leases taken by this worker (host, pid, random suffix). */
  readonly owner: string;
  readonly atPoint: (point: AnchorPoint) => Promise<void>;
  /**
   * Logs a warning once per `key` (a condition that persists across polls — fee cap reached, no
   * `finalized` tag — is said once, not every `confirmPollMs`).
   */
  readonly warnOnce: (key: string, fields: Record<string, unknown>, message: string) => void;
}

/** The claim a worker holds on a job: every write of the job presents `token`. */
export interface JobLease {
  readonly jobId: string;
  readonly token: number;
}
