import { Worker } from 'node:worker_threads';
import type { DatabaseTarget, SqliteOptions } from '@fieldproof/db';
import type { WriteExecutor } from './write-executor.js';
import type { WriteRequest, WriteResult } from './write-request.js';

/**
 * The worker runs the compiled module in this package's dist (also when tests run the sources: from
 * both src/write and dist/write this URL names dist/write/sqlite-writer-worker.js), so `npm run build`
 * must have run — `npm test` does it first.
 */
const WORKER_URL = new URL('../../dist/write/sqlite-writer-worker.js', import.meta.url);

/**
 * What crosses to the writer thread for one batch: the requests as ONE JSON string (they are plain
 * strings, numbers and nulls). Copying one string is cheaper for both threads than a structured clone of
 * an object graph per request.
 */
export interface WriterBatch {
  readonly type: 'batch';
  readonly id: number;
  readonly requests: string;
}

/**
 * What the writer thread answers for one batch: `allOk` when every write was applied and returned no row
 * (the usual case: no per-write objects are built or copied), else every result as one JSON string.
 */
export type WriterReply =
  | { readonly id: number; readonly allOk: true }
  | { readonly id: number; readonly results: string }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };

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
 * stalls only the writer while the main thread keeps parsing, validating and answering requests (and
 * collecting the next batch). Reads stay on the main connection: WAL readers see each commit at once.
 * One batch at a time is in the thread (the GroupCommitter sends the next when this one is answered).
 */
export class SqliteWriterThread implements WriteExecutor {
  readonly #target: DatabaseTarget;
  readonly #options: SqliteOptions;
  #worker: Worker | undefined;
  readonly #waiting = new Map<
    number,
    { resolve: (r: WriteResult[]) => void; reject: (e: Error) => void; size: number }
  >();
  #nextId = 1;

  constructor(target: DatabaseTarget, options: SqliteOptions) {
    this.#target = target;
    this.#options = options;
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
    worker.postMessage({ type: 'close' }); // after any batch already posted: the thread closes its database
    await exited;
  }

  #spawn(): Worker {
    const worker = new Worker(WORKER_URL, { workerData: { target: this.#target, sqlite: this.#options } });
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      const waiter = this.#waiting.get(reply.id);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.id);
      if ('allOk' in reply) waiter.resolve(new Array<WriteResult>(waiter.size).fill(OK));
      else if ('results' in reply) waiter.resolve(JSON.parse(reply.results) as WriteResult[]);
      else waiter.reject(new SqliteWriterError(reply.error.message, reply.error.code));
    });
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
