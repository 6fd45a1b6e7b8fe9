// The contract between the group committer and whatever commits its batches (kysely keeps driver.ts
// apart from sqlite-driver.ts the same way): implementations import it, it imports none of them.
import type { WriteRequest, WriteResult } from './write-request.js';

/** Where batches are committed. */
export interface WriteExecutor {
  /**
   * Commits the batch (in one transaction, possibly shared with other batches: see maxBatchesInFlight);
   * one result per write. Rejects when nothing was committed.
   */
  execute(requests: readonly WriteRequest[]): Promise<WriteResult[]>;
  /**
   * How many batches may be handed over before the first is answered. 1: one at a time, each its own
   * transaction. More: the executor queues them and commits what queued up together.
   */
  readonly maxBatchesInFlight: number;
  close(): Promise<void>;
}

export interface WriteExecutorOptions {
  /** The most writes one transaction holds. */
  readonly maxTransactionWrites: number;
  /** Called after each committed transaction with its number of writes (metrics). */
  readonly onTransaction?: (writes: number) => void;
}
