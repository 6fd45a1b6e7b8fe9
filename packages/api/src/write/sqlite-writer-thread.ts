import type { Worker } from 'node:worker_threads';
import { startWorker } from '@fieldproof/db';
import type { DatabaseTarget, SqliteOptions } from '@fieldproof/db';
import type { WriteExecutor, WriteExecutorOptions } from './write-executor.js';
import type { WriteRequest, WriteResult } from './write-request.js';
import type { WriterBatch, WriterData, WriterReply } from './writer-messages.js';

const OK: WriteResult = Object.freeze({ ok: true });

/** A database error from the writer thread; keeps the driver's `code` for classifyDbError. */
export class SqliteWriterError extends Error {
  override readonly name = 'SqliteWriterError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * SQLite writes on a worker thread with its own connection (opened like every other: WAL, foreign keys
 * verified, busy timeout, synchronous FULL by default). better-sqlite3 is synchronous, so a COMMIT's
 * fsync would otherwise stall the event loop — and every request — for its whole duration; here it
 * stalls only the writer while the main thread keeps parsing, validating and answering requests. Reads
 * stay on the main connection: WAL readers see each commit at once.
 *
 * Batches are posted as soon as the committer has them; the thread commits everything that arrived while
 * it was committing the previous transaction as the next one (up to maxTransactionWrites writes). So the
 * writer never waits for a round trip through the main thread's event loop between two commits, and a
 * transaction holds every write that was waiting for it.
 */
export class SqliteWriterThread implements WriteExecutor {
  readonly maxBatchesInFlight = Number.POSITIVE_INFINITY;
  readonly #data: WriterData;
  readonly #onTransaction: ((writes: number) => void) | undefined;
  #worker: Worker | undefined;
  readonly #waiting = new Map<
    number,
    { resolve: (r: WriteResult[]) => void; reject: (e: Error) => void; size: number }
  >();
  #nextId = 1;

  constructor(target: DatabaseTarget, sqlite: SqliteOptions, options: WriteExecutorOptions) {
    this.#data = { target, sqlite, maxTransactionWrites: options.maxTransactionWrites };
    this.#onTransaction = options.onTransaction;
    this.#spawn();
  }

  execute(requests: readonly WriteRequest[]): Promise<WriteResult[]> {
    const worker = this.#worker ?? this.#spawn();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, size: requests.length });
      worker.postMessage({ type: 'batch', id, requests: JSON.stringify(requests) } satisfies WriterBatch);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    this.#worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' }); // after every batch already posted: the thread closes its database
    await exited;
  }

  #settle(reply: WriterReply): void {
    const err = 'error' in reply ? new SqliteWriterError(reply.error.message, reply.error.code) : undefined;
    const results = 'results' in reply ? reply.results : undefined;
    let writes = 0;
    reply.ids.forEach((id, i) => {
      const waiter = this.#waiting.get(id);
      if (waiter === undefined) return; // already failed with its thread
      this.#waiting.delete(id);
      writes += waiter.size;
      if (err !== undefined) waiter.reject(err);
      else if (results !== undefined) waiter.resolve(JSON.parse(results[i]!) as WriteResult[]);
      else waiter.resolve(new Array<WriteResult>(waiter.size).fill(OK));
    });
    if (err === undefined) this.#onTransaction?.(writes);
  }

  #spawn(): Worker {
    // The thread holds the event loop until close(): whoever builds the app must close it, also when a
    // later start-up step fails (startApi does). No unref(): a 'message' listener re-refs the port anyway.
    const worker = startWorker(import.meta.url, 'sqlite-writer-worker', this.#data);
    worker.on('message', (reply: WriterReply) => this.#settle(reply));
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined; // the next batch starts a new thread
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) =>
      fail(new SqliteWriterError(`the SQLite writer thread exited (${code})`, undefined)),
    );
    this.#worker = worker;
    return worker;
  }
}
