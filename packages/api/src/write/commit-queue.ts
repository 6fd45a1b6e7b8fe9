// The one group-commit queue, used on both sides of the SQLite writer thread and on PostgreSQL: the
// GroupCommitter (main thread) queues writes and hands batches to the executor; the SQLite writer thread
// queues the batches it is posted and commits what queued up as one transaction. Kysely-free and
// erasable TypeScript: the writer thread runs it (see startWorker).

export interface CommitQueueOptions<T> {
  /** The most weight one commit takes; a commit takes at least one item whatever its weight. */
  readonly maxWeight: number;
  /** An item's weight (default 1). */
  readonly weightOf?: (item: T) => number;
  /** How many commits may run at once. */
  readonly maxInFlight: number;
  /**
   * Commits `items`; never rejects. What it resolves to runs once the next commit has been handed over:
   * answering a batch (serialising each response) keeps the event loop busy about as long as a commit
   * takes, so the two overlap instead of taking turns.
   */
  readonly commit: (items: T[]) => Promise<(() => void) | void>;
}

/**
 * Group commit: items queued during the same turn of the event loop — or while `maxInFlight` commits
 * run — are committed together (up to `maxWeight`), so the cost of a durable commit (an fsync under
 * `synchronous=FULL`) is paid once per group instead of once per item. A commit starts from
 * setImmediate, after the event loop's I/O phase: what arrived meanwhile (requests; messages posted to a
 * worker) joins it. When a commit ends, what queued meanwhile is handed over at once.
 */
export class CommitQueue<T> {
  readonly #options: CommitQueueOptions<T>;
  #queue: T[] = [];
  #inFlight = 0;
  #scheduled = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: CommitQueueOptions<T>) {
    this.#options = options;
  }

  /** Items queued and not yet handed to a commit. */
  get length(): number {
    return this.#queue.length;
  }

  push(item: T): void {
    this.#queue.push(item);
    this.#schedule();
  }

  /** Resolves once nothing is queued, scheduled or being committed. */
  whenIdle(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #idle(): boolean {
    return this.#queue.length === 0 && this.#inFlight === 0 && !this.#scheduled;
  }

  #wakeIfIdle(): void {
    if (this.#idle()) for (const w of this.#idleWaiters.splice(0)) w();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#options.maxInFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
      this.#wakeIfIdle();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.#options.maxInFlight) void this.#run(this.#take());
  }

  /** Whole items from the front of the queue, up to maxWeight (at least one). */
  #take(): T[] {
    const weightOf = this.#options.weightOf ?? (() => 1);
    let n = 0;
    let weight = 0;
    while (n < this.#queue.length) {
      const w = weightOf(this.#queue[n]!);
      if (n > 0 && weight + w > this.#options.maxWeight) break;
      weight += w;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  async #run(items: T[]): Promise<void> {
    this.#inFlight++;
    let after: (() => void) | void;
    try {
      after = await this.#options.commit(items);
    } finally {
      this.#inFlight--;
    }
    this.#dispatch();
    after?.();
    this.#wakeIfIdle();
  }
}
