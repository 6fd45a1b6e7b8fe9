import { classifyDbError } from '@fieldproof/db';
import { errors } from '../errors/catalogue.js';
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
 * Group commit: writes submitted while a batch is being committed — or during the same turn of the event
 * loop — are committed together in ONE transaction (at most `maxBatch`), so the cost of a durable commit
 * (an fsync under `synchronous=FULL`) is paid once per batch instead of once per request. Each
 * submitter's promise settles only after its batch committed: a 2xx is never sent for a write that is not
 * on disk. How one write's constraint violation is kept from failing the others: see applyWrites.
 *
 * One batch at a time: SQLite has one writer anyway, and on PostgreSQL it keeps batches large.
 */
export class GroupCommitter {
  readonly #executor: WriteExecutor;
  readonly #options: GroupCommitterOptions;
  #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  #flushing = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(executor: WriteExecutor, options: GroupCommitterOptions) {
    this.#executor = executor;
    this.#options = options;
  }

  /** Writes queued or in the transaction being committed. */
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
    return new Promise<WriteResult>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#schedule();
    });
  }

  /** Refuses new writes and resolves when every queued write has been committed (or failed). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length > 0 || this.#flushing || this.#scheduled) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    // setImmediate runs after the event loop's I/O phase: requests that arrived meanwhile join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    const batch = this.#queue.splice(0, this.#options.maxBatch);
    this.#inFlight = batch.length;
    const requests = batch.map((p) => p.request);
    try {
      const results = await this.#executor.execute(requests);
      this.#options.onBatch?.(requests, results);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      this.#options.onBatchError?.(err, batch.length);
      const failure =
        classifyDbError(err) === 'retryable'
          ? new errors.Unavailable('the database is busy; retry later')
          : err;
      for (const p of batch) p.reject(failure);
    } finally {
      this.#inFlight = 0;
      this.#flushing = false;
      if (this.#queue.length > 0) this.#schedule();
      else for (const w of this.#idleWaiters.splice(0)) w();
    }
  }
}
