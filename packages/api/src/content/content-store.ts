import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../errors/catalogue.js';

/** What `ContentStore.put` stored. */
export interface StoredContent {
  readonly digest: string;
  readonly size: number;
  readonly path: string;
}

/**
 * A content-addressed store on disk: the bytes whose SHA-256 is `abcd…` live at
 * `<dataDir>/content/ab/cd/abcd…`. A write is durable before `put` resolves:
 *
 *   stream → hash + write to content/.tmp/<random> → fsync file → rename to ab/cd/<digest>
 *          → fsync ab/cd; and, once per process, each of content, ab, ab/cd in its parent
 *
 * so a crash leaves either no file or a complete one under its name (a `.tmp` leftover at most).
 * Content whose database write never committed stays as an unreferenced file: harmless, since a name is
 * its hash, and reused if the same bytes come again.
 */
export interface ContentStoreOptions {
  /** fsyncs a folder (its entries); a seam for tests that count them. */
  readonly syncFolder?: (dir: string) => Promise<void>;
}

export class ContentStore {
  readonly root: string;
  readonly #tmp: string;
  readonly #syncFolder: (dir: string) => Promise<void>;
  /**
   * Folders (relative to `root`; '' is `root`) whose entry this process has fsynced into their parent.
   * At most 1 + 256 + 65 536 short strings, and only once uploads have used every prefix.
   */
  readonly #durable = new Set<string>();

  constructor(dataDir: string, options: ContentStoreOptions = {}) {
    this.root = path.join(dataDir, 'content');
    this.#tmp = path.join(this.root, '.tmp');
    this.#syncFolder = options.syncFolder ?? fsyncDir;
  }

  /** Where the bytes of `digest` are (or would be) stored. */
  pathOf(digest: string): string {
    return path.join(this.root, digest.slice(0, 2), digest.slice(2, 4), digest);
  }

  /**
   * Streams `source` to the store, hashing as it goes. Throws FP_PAYLOAD_TOO_LARGE past `limitBytes`,
   * FP_BAD_REQUEST for an empty body, and FP_DIGEST_MISMATCH when `expectedDigest` is given and differs;
   * nothing is kept in those cases.
   */
  async put(
    source: AsyncIterable<Buffer>,
    limitBytes: number,
    expectedDigest?: string,
  ): Promise<StoredContent> {
    // Partial uploads need no durable folder: a file counts once renamed into a durable one.
    await fs.promises.mkdir(this.#tmp, { recursive: true, mode: 0o700 });
    const tmpPath = path.join(this.#tmp, `${randomBytes(12).toString('hex')}`);
    const file = await fs.promises.open(tmpPath, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    let kept = false;
    try {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > limitBytes)
          throw new errors.PayloadTooLarge(`the content is larger than ${limitBytes} bytes`);
        hash.update(chunk);
        await file.write(chunk);
      }
      if (size === 0) throw new errors.BadRequest('the content is empty');
      const digest = hash.digest('hex');
      if (expectedDigest !== undefined && expectedDigest !== digest) {
        throw new errors.DigestMismatch(`the content hashes to ${digest}, not to the digest given`);
      }
      await file.sync();
      await file.close();
      const finalPath = this.pathOf(digest);
      const dir = path.dirname(finalPath);
      await this.#ensureDurableFolder(dir);
      await fs.promises.rename(tmpPath, finalPath);
      await this.#syncFolder(dir);
      kept = true;
      return { digest, size, path: finalPath };
    } finally {
      if (!kept) {
        await file.close().catch(() => undefined);
        await fs.promises.rm(tmpPath, { force: true });
      }
    }
  }

  /**
   * Makes `dir` (`root` or a folder below it) and the folders above it exist, each one's entry fsynced
   * into its parent by this process — whoever created it. An upload racing another into a new prefix
   * folder finds the folder made but maybe not yet durable, and must not be answered before it is; the
   * same holds for a folder a crashed process made. Each folder costs one parent fsync per process.
   */
  async #ensureDurableFolder(dir: string): Promise<void> {
    const key = path.relative(this.root, dir);
    if (this.#durable.has(key)) return;
    const parent = path.dirname(dir);
    if (key === '')
      await mkdirDurable(parent, this.#syncFolder); // the data folder, if it is missing
    else await this.#ensureDurableFolder(parent);
    try {
      await fs.promises.mkdir(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await this.#syncFolder(parent);
    this.#durable.add(key);
  }

  /**
   * Removes partial uploads a crash left in `content/.tmp` that are older than `olderThanMs` (a running
   * upload keeps writing to its file, so a recent one may still be in progress). Returns how many.
   */
  async removeStaleUploads(olderThanMs: number, now: number = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.#tmp);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.#tmp, name);
      try {
        if (now - (await fs.promises.stat(file)).mtimeMs > olderThanMs) {
          await fs.promises.rm(file, { force: true });
          removed++;
        }
      } catch {
        // gone meanwhile
      }
    }
    return removed;
  }
}

/** mkdir -p with mode 0700, fsyncing the parent of each folder it created so the entry is durable. */
async function mkdirDurable(dir: string, fsyncDir: (dir: string) => Promise<void>): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; !(await exists(d)); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      await fs.promises.mkdir(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await fsyncDir(path.dirname(d));
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.stat(p);
    return true;
  } catch {
    return false;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
