import fs from 'node:fs';

/** Free space that counts as "space is back" on every folder the api writes to. */
export const STORAGE_FREE_BYTES_READY = 8 * 1024 * 1024;

/**
 * Whether the api's storage is full, for `/readyz`. Set by a write that failed for lack of space (see
 * isStorageFull); cleared by the next committed write, or when a readiness check finds at least
 * {@link STORAGE_FREE_BYTES_READY} free in every folder it can look at (the SQLite database's folder and
 * the data folder). A PostgreSQL server's disk cannot be seen from here: when it was the database that
 * was full, only a committed write clears the state.
 */
export class StorageHealth {
  readonly #folders: readonly string[];
  readonly #databaseVisible: boolean;
  readonly #now: () => number;
  #full: { readonly since: number; readonly reason: string; readonly database: boolean } | undefined;

  /**
   * `folders`: where the api writes, whose free space it can read (statfs); `databaseVisible`: whether
   * the database's own disk is among them (SQLite).
   */
  constructor(options: { folders: readonly string[]; databaseVisible: boolean; now: () => number }) {
    this.#folders = options.folders;
    this.#databaseVisible = options.databaseVisible;
    this.#now = options.now;
  }

  /** A write failed for lack of space; `err` says where (its code). */
  markFull(err: unknown): void {
    if (this.#full !== undefined) return;
    const raw = (err as { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : 'unknown';
    const database = code !== 'ENOSPC' && code !== 'EDQUOT';
    this.#full = {
      since: this.#now(),
      reason: `${database ? 'database' : 'content store'}: ${code}`,
      database,
    };
  }

  /** A write committed: there was room for it. */
  markWritten(): void {
    this.#full = undefined;
  }

  /** Why storage is full (undefined when it is not, or no longer is: space came back). */
  async check(): Promise<string | undefined> {
    const full = this.#full;
    if (full === undefined) return undefined;
    if (full.database && !this.#databaseVisible) return describe(full);
    const free = await Promise.all(this.#folders.map(freeBytes));
    if (free.every((bytes) => bytes >= STORAGE_FREE_BYTES_READY)) {
      if (this.#full === full) this.#full = undefined;
      return undefined;
    }
    return describe(full);
  }
}

function describe(full: { since: number; reason: string }): string {
  return `storage is full since ${new Date(full.since).toISOString()} (${full.reason}); free space, then writes resume`;
}

async function freeBytes(folder: string): Promise<number> {
  try {
    const s = await fs.promises.statfs(folder);
    return s.bavail * s.bsize;
  } catch {
    return 0; // cannot tell: not "space is back"
  }
}
