import { classifyDbError } from '@fieldproof/db';
import { errors } from '../errors/catalogue.js';
import { CommitQueue } from './commit-queue.js';
import type { WriteExecutor } from './write-executor.js';
import type { WriteRequest, WriteResult } from './write-request.js';

export interface GroupCommitterOptions {
  readonly maxBatch: number;
  /** Submissions beyond this many waiting writes are refused with 503 (load shedding). */
  readonly maxPending: number;
  /** Called after each committed batch (metrics). */
  readonly onBatch?: (requests: readonly WriteRequest[], results: readonly WriteResult[]) => void;
  /** Called when a whole batch failed (logging). */
  readonly onBatchError?: (err: unknown, size: number) => void;
}

interface Pending {
  readonly request: WriteRequest;
  readonly resolve: (value: WriteResult) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Group commit on the main thread (the queue algorithm: CommitQueue): writes submitted during the same
 * turn of the event loop — or while the executor cannot take another batch — are handed over together (at
 * most `maxBatch`), and the executor commits each batch in one transaction. Each submitter's promise
 * settles only after its batch committed: a 2xx is never sent for a write that is not on disk. How one
 * write's constraint violation is kept from failing the others: see applyWrites.
 *
 * How many batches are handed over before the first is answered is the executor's choice
 * (maxBatchesInFlight): the SQLite writer thread takes them as they come and merges what queued up while
 * it was committing (with a CommitQueue of its own); on PostgreSQL one batch at a time keeps batches large.
 */
export class GroupCommitter {
  readonly #executor: WriteExecutor;
  readonly #options: GroupCommitterOptions;
  readonly #queue: CommitQueue<Pending>;
  /** Writes handed to the executor and not yet answered. */
  #inFlight = 0;
  #closed = false;

  constructor(executor: WriteExecutor, options: GroupCommitterOptions) {
    this.#executor = executor;
    this.#options = options;
    this.#queue = new CommitQueue<Pending>({
      maxWeight: options.maxBatch,
      maxInFlight: executor.maxBatchesInFlight,
      commit: (batch) => this.#commit(batch),
    });
  }

  /** Writes queued or in a transaction being committed. */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  /** Throws the 503 a new write would get now (call before reading a large body). */
  assertCapacity(): void {
    if (this.#closed) throw new errors.Unavailable('the server is shutting down; retry later');
    if (this.pending >= this.#options.maxPending) {
      throw new errors.Overloaded(
        `too many writes are waiting to be committed (${this.pending}); retry later`,
      );
    }
  }

  /** Queues `request` for the next batch; resolves with its result once the batch committed. */
  submit(request: WriteRequest): Promise<WriteResult> {
    this.assertCapacity();
    return new Promise<WriteResult>((resolve, reject) => this.#queue.push({ request, resolve, reject }));
  }

  /** Refuses new writes and resolves when every queued write has been committed (or failed). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.whenIdle();
  }

  /** Commits one batch; what it returns answers the batch's submitters. */
  async #commit(batch: Pending[]): Promise<() => void> {
    this.#inFlight += batch.length;
    const requests = batch.map((p) => p.request);
    let outcome: { results: WriteResult[] } | { error: unknown };
    try {
      outcome = { results: await this.#executor.execute(requests) };
    } catch (error) {
      outcome = { error };
    }
    this.#inFlight -= batch.length;
    return () => {
      if ('results' in outcome) {
        const { results } = outcome;
        batch.forEach((p, i) => p.resolve(results[i]!));
        this.#options.onBatch?.(requests, results);
      } else {
        this.#options.onBatchError?.(outcome.error, batch.length);
        const failure =
          classifyDbError(outcome.error) === 'retryable'
            ? new errors.Unavailable('the database is busy; retry later')
            : outcome.error;
        for (const p of batch) p.reject(failure);
      }
    };
  }
}
