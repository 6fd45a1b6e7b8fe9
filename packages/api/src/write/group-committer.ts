import { appendEvidence, classifyDbError } from '@fieldproof/db';
import type { Database, NewEvidence, Schema } from '@fieldproof/db';
import type { ControlledTransaction, Kysely } from 'kysely';
import { errors } from '../errors/catalogue.js';

/**
 * One write request's database work. `apply` runs under its own savepoint; when it throws, the savepoint
 * is rolled back (undoing only this write) and `recover` decides the outcome from the error — e.g. a
 * UNIQUE violation on a replayed digest becomes "200, here is the existing record", another becomes a
 * catalogued 409 — while the other writes of the batch go on.
 */
export interface WriteOp<R> {
  /**
   * Set for a plain evidence append (the hot path): the row, and the result to answer when it was
   * inserted. Such writes are first tried together in one multi-row insert.
   */
  readonly append?: { readonly row: NewEvidence; readonly result: R };
  apply(trx: Kysely<Schema>): Promise<R>;
  recover(trx: Kysely<Schema>, err: unknown): Promise<R>;
}

export interface GroupCommitterOptions {
  readonly maxBatch: number;
  /** Submissions beyond this many waiting writes are refused with 503 (load shedding). */
  readonly maxPending: number;
  /** Called after each committed batch with its size (metrics). */
  readonly onBatch?: (size: number) => void;
  /** Called when a whole batch failed (logging). */
  readonly onBatchError?: (err: unknown, size: number) => void;
}

interface Pending {
  readonly op: WriteOp<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

type Outcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * Group commit: writes submitted while a batch is being committed — or during the same turn of the event
 * loop — are committed together in ONE transaction (at most `maxBatch` per transaction), so the cost of
 * a durable commit (an fsync under `synchronous=FULL`) is paid once per batch instead of once per
 * request. Each submitter's promise settles only after its batch committed: a 2xx is never sent for a
 * write that is not on disk.
 *
 * Isolation of failures inside a batch:
 *
 *   BEGIN (IMMEDIATE on SQLite)
 *     SAVEPOINT fast; INSERT all plain evidence rows; INSERT their queue rows; RELEASE   ← usual case
 *       on a constraint violation: ROLLBACK TO fast, then treat those writes one by one:
 *     for each write:  SAVEPOINT item; apply; RELEASE
 *       on any error:  ROLLBACK TO item; recover(err) → result or catalogued error (decided by the
 *                      error's constraint code, see classifyDbError)
 *   COMMIT → settle every promise;  COMMIT fails → reject every promise of the batch
 *
 * Savepoints rather than check-then-insert, because only they are correct on PostgreSQL with several
 * replicas (another replica may insert the same digest between a check and an insert, and an error
 * aborts a PostgreSQL transaction unless rolled back to a savepoint). The multi-row fast path exists
 * because per-statement overhead, not the fsync, dominates a large batch.
 *
 * One batch at a time: on SQLite there is one writer anyway; on PostgreSQL it keeps batches large.
 */
export class GroupCommitter {
  readonly #database: Database;
  readonly #options: GroupCommitterOptions;
  #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  #flushing = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  constructor(database: Database, options: GroupCommitterOptions) {
    this.#database = database;
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

  /** Queues `op` for the next batch; resolves with its result once the batch committed. */
  submit<R>(op: WriteOp<R>): Promise<R> {
    this.assertCapacity();
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Refuses new writes and resolves when every queued write has been committed (or failed). */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#busy()) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #busy(): boolean {
    return this.#queue.length > 0 || this.#flushing || this.#scheduled;
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
    try {
      const outcomes = await this.#commit(batch);
      this.#options.onBatch?.(batch.length);
      batch.forEach((p, i) => {
        const o = outcomes[i]!;
        if (o.ok) p.resolve(o.value);
        else p.reject(o.error);
      });
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
      else if (!this.#scheduled) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** One transaction for the batch; the outcome of each write, valid only if this resolves. */
  async #commit(batch: readonly Pending[]): Promise<Outcome[]> {
    const trx = await this.#database.db.startTransaction().execute();
    try {
      const outcomes = await runBatch(trx, batch);
      await trx.commit().execute();
      return outcomes;
    } catch (err) {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      throw err;
    }
  }
}

async function runBatch(trx: ControlledTransaction<Schema>, batch: readonly Pending[]): Promise<Outcome[]> {
  const outcomes: (Outcome | undefined)[] = new Array<Outcome | undefined>(batch.length);
  const fast = batch.flatMap((p, i) => (p.op.append === undefined ? [] : [{ i, append: p.op.append }]));
  if (fast.length > 1) {
    const sp = await trx.savepoint('fast').execute();
    try {
      await appendEvidence(
        sp,
        fast.map((f) => f.append.row),
      );
      await sp.releaseSavepoint('fast').execute();
      for (const f of fast) outcomes[f.i] = { ok: true, value: f.append.result };
    } catch (err) {
      if (!isConstraintViolation(err)) throw err;
      await sp.rollbackToSavepoint('fast').execute();
      await sp.releaseSavepoint('fast').execute();
    }
  }
  for (let i = 0; i < batch.length; i++) {
    if (outcomes[i] !== undefined) continue;
    const op = batch[i]!.op;
    const sp = await trx.savepoint('item').execute();
    try {
      const value = await op.apply(sp);
      await sp.releaseSavepoint('item').execute();
      outcomes[i] = { ok: true, value };
    } catch (err) {
      await sp.rollbackToSavepoint('item').execute();
      await sp.releaseSavepoint('item').execute();
      // recover reads (e.g. the existing row); its own savepoint keeps a failing read from poisoning
      // the transaction for the rest of the batch (PostgreSQL aborts a transaction on any error).
      const rsp = await trx.savepoint('recover').execute();
      try {
        outcomes[i] = { ok: true, value: await op.recover(rsp, err) };
        await rsp.releaseSavepoint('recover').execute();
      } catch (error) {
        await rsp.rollbackToSavepoint('recover').execute();
        await rsp.releaseSavepoint('recover').execute();
        outcomes[i] = { ok: false, error };
      }
    }
  }
  return outcomes as Outcome[];
}

function isConstraintViolation(err: unknown): boolean {
  const c = classifyDbError(err);
  return c === 'unique' || c === 'primary_key' || c === 'foreign_key' || c === 'check' || c === 'not_null';
}
