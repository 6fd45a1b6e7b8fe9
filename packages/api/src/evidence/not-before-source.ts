import { getLatestCheckpoint, listChainFinalizedBlocks } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { notBeforeBlock } from '@fieldproof/receipt';
import type { NotBeforeBlock } from '@fieldproof/receipt';
import type { FastifyBaseLogger } from 'fastify';

/** How often the api re-reads the newest finalized block and the last checkpoint's time. */
export const NOT_BEFORE_REFRESH_MS = 5_000;

/** The `fieldproof-leaf/v2` columns of a new evidence row (migration 0008). */
export interface LeafBracketColumns {
  readonly leaf_version: 2;
  readonly not_before_chain_id: number | null;
  readonly not_before_number: number | null;
  readonly not_before_hash: string | null;
  readonly not_before_timestamp: number | null;
  readonly clock_suspect: 0 | 1;
}

/**
 * What the api knows about time apart from its own clock, kept in memory so that intake costs no query:
 * the newest finalized block the keeper recorded on any chain (`chain_finalized_blocks`; the one with
 * the latest timestamp) and when the device last signed a checkpoint. Both are re-read every
 * {@link NOT_BEFORE_REFRESH_MS} and by every `/readyz`; a block a few seconds older than the newest is
 * still a true "written after" bound, only a looser one.
 *
 * The clock is suspect while it reads earlier than either: a unit without a real-time clock that booted
 * on a stale time (fake-hwclock) would otherwise stamp records with times it has already passed. New
 * records are then flagged `clockSuspect`, one warning is logged per change of state (and one line when
 * the clock is past both again), and `/readyz` fails with the reason.
 */
export class NotBeforeSource {
  readonly #database: Database;
  readonly #log: FastifyBaseLogger;
  #block: NotBeforeBlock | null = null;
  #checkpointAt: number | null = null;
  /** Columns for a trusted and for a suspect clock, rebuilt when the block changes. */
  #columns: readonly [LeafBracketColumns, LeafBracketColumns] = columnsFor(null);
  #suspect = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { readonly database: Database; readonly log: FastifyBaseLogger }) {
    this.#database = options.database;
    this.#log = options.log;
  }

  /** The block new records are written after, or null (no chain reached yet). */
  get block(): NotBeforeBlock | null {
    return this.#block;
  }

  /** Re-reads both facts (two primary-key-sized queries). Never throws: a failed read keeps the last. */
  async refresh(): Promise<void> {
    const db = this.#database.db;
    try {
      const [blocks, checkpoint] = await Promise.all([listChainFinalizedBlocks(db), getLatestCheckpoint(db)]);
      let block: NotBeforeBlock | null = null;
      for (const b of blocks) {
        const candidate = validBlock(b);
        if (candidate !== null && (block === null || candidate.timestamp > block.timestamp))
          block = candidate;
      }
      if (block?.hash !== this.#block?.hash || block?.chainId !== this.#block?.chainId) {
        this.#block = block;
        this.#columns = columnsFor(block);
      }
      this.#checkpointAt = checkpoint === undefined ? null : checkpoint.created_at;
    } catch (err) {
      this.#log.warn({ err }, 'cannot read the newest finalized block; new records keep the last one known');
    }
  }

  /** Refreshes now and then every {@link NOT_BEFORE_REFRESH_MS} (the timer does not hold the process). */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), NOT_BEFORE_REFRESH_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The v2 columns of a record received at `now` (the api clock): O(1), no query. */
  columnsAt(now: number): LeafBracketColumns {
    return this.#columns[this.#check(now) === undefined ? 0 : 1];
  }

  /** Why the clock reading `now` cannot be trusted, or undefined when it can. */
  clockProblem(now: number): string | undefined {
    return this.#check(now);
  }

  #check(now: number): string | undefined {
    const block = this.#block;
    let reason: string | undefined;
    if (block !== null && now < block.timestamp) {
      reason =
        `the clock (${iso(now)}) is behind finalized block ${block.number} of chain ${block.chainId} ` +
        `(${iso(block.timestamp)})`;
    } else if (this.#checkpointAt !== null && now < this.#checkpointAt) {
      reason = `the clock (${iso(now)}) is behind the last signed checkpoint (${iso(this.#checkpointAt)})`;
    }
    const suspect = reason !== undefined;
    if (suspect !== this.#suspect) {
      this.#suspect = suspect;
      if (suspect) {
        this.#log.warn(
          { now, block, lastCheckpointAt: this.#checkpointAt },
          `clock suspect: ${reason}; new records are flagged clockSuspect and /readyz fails until it is past both`,
        );
      } else {
        this.#log.info({ now }, 'clock trusted again: new records are no longer flagged clockSuspect');
      }
    }
    return reason;
  }
}

/** A block a leaf can carry (fieldproof-leaf/v2's rules), or null for one it cannot. */
function validBlock(b: NotBeforeBlock): NotBeforeBlock | null {
  try {
    return notBeforeBlock({ chainId: b.chainId, number: b.number, hash: b.hash, timestamp: b.timestamp });
  } catch {
    return null;
  }
}

function columnsFor(block: NotBeforeBlock | null): readonly [LeafBracketColumns, LeafBracketColumns] {
  const base = {
    leaf_version: 2,
    not_before_chain_id: block?.chainId ?? null,
    not_before_number: block?.number ?? null,
    not_before_hash: block?.hash ?? null,
    not_before_timestamp: block?.timestamp ?? null,
  } as const;
  return [Object.freeze({ ...base, clock_suspect: 0 }), Object.freeze({ ...base, clock_suspect: 1 })];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
