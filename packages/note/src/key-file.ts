/**
 * The private key file on disk: reading it with its mode checked, and creating it exactly once.
 *
 * Creating needs neither hard links (FUSE layers and the exFAT/vfat USB sticks field units keep data on
 * have none) nor locks (a lock left by a crash would need guessing when it is stale). It rests on one
 * rule every file system keeps: a folder cannot be renamed onto a folder that is not empty.
 *
 * ```
 *  1. candidate   device.key.<pid>.<random>.tmp/key    new key, 0600, fsynced (file and folder)
 *  2. claim       rename the candidate folder to device.key.creating/
 *                 fails (ENOTEMPTY/EEXIST) while another claim stands: then read that one
 *  3. publish     read the claim's key; unless device.key exists by now, write those bytes to a
 *                 temporary file, fsync, rename it to device.key, fsync the folder
 *  4. answer      whatever device.key holds (read back)
 *  5. clean up    the claim folder and temporaries, only once device.key is durable
 * ```
 *
 * Why exactly one key wins: device.key is only ever written with bytes read from a claim while
 * device.key was still absent, and until device.key exists no claim is removed, so every such claim is
 * the first one — racing publishers write the same bytes. A claim made after the clean-up finds
 * device.key in step 3 and is dropped. A crash leaves at most a complete claim nobody used (the next
 * start adopts it) and temporaries (removed by the next creation).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { DeviceKeyError, InsecureKeyFileError } from './errors.js';

const MAX_KEY_FILE_SIZE = 4096;
/** Rounds of steps 1–4 before giving up; a round is only repeated when another process moved on. */
const MAX_ROUNDS = 8;

/**
 * The text of the private key file at `path`, or `undefined` when there is none. Throws
 * `InsecureKeyFileError` when group or others have any access, `DeviceKeyError` when it is not a
 * regular file, is too large or cannot be read.
 */
export async function readKeyFileText(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new DeviceKeyError(path, `cannot open: ${errorText(err)}`, { cause: err });
  }
  try {
    // fstat on the open handle, so the mode checked is the mode of the file read.
    const stat = await handle.stat();
    if (!stat.isFile()) throw new DeviceKeyError(path, 'is not a regular file');
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) throw new InsecureKeyFileError(path, mode);
    if (stat.size > MAX_KEY_FILE_SIZE)
      throw new DeviceKeyError(path, `is larger than ${MAX_KEY_FILE_SIZE} bytes`);
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}

/**
 * Creates the private key file at `path` holding `content`, unless it exists or another process creates
 * it first; returns what `parse` makes of the file's text in the end — this process's key or the
 * winner's. The folder is created 0700 when missing. `parse` throws on text it refuses.
 */
export async function createKeyFileOnce<T>(
  path: string,
  content: string,
  parse: (text: string, file: string) => T,
): Promise<T> {
  const folder = dirname(resolve(path));
  const claim = `${path}.creating`;
  await ensurePrivateFolder(folder);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const existing = await readKeyFileText(path);
    if (existing !== undefined) {
      const value = parse(existing, path);
      await removeCreationLeftovers(path);
      return value;
    }
    try {
      await claimOnce(path, claim, content);
      const claimed = await readKeyFileText(join(claim, 'key'));
      if (claimed === undefined) continue; // removed after device.key was published: read that
      parse(claimed, join(claim, 'key')); // never publish what would not load
      if ((await readKeyFileText(path)) === undefined) await publish(path, claimed);
      const published = await readKeyFileText(path);
      if (published === undefined) continue;
      const value = parse(published, path);
      await removeCreationLeftovers(path);
      return value;
    } catch (err) {
      // A temporary or the claim vanished under us: another process finished (or cleaned up). Look again.
      if (errorCode(err) === 'ENOENT') continue;
      throw err;
    }
  }
  throw new DeviceKeyError(path, `cannot create: no stable key file after ${MAX_ROUNDS} rounds`);
}

/** Steps 1 and 2: a complete candidate folder, renamed to the claim unless a claim already stands. */
async function claimOnce(path: string, claim: string, content: string): Promise<void> {
  const candidate = temporaryName(path);
  await mkdir(candidate, { mode: 0o700 });
  try {
    await writeFileExclusive(join(candidate, 'key'), content);
    await fsyncFolder(candidate);
    try {
      await rename(candidate, claim);
      await fsyncFolder(dirname(resolve(path)));
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
  } finally {
    await rm(candidate, { recursive: true, force: true });
  }
}

/** Step 3: `text` to `path` through a fsynced temporary file and a rename, then the folder fsynced. */
async function publish(path: string, text: string): Promise<void> {
  const temporary = temporaryName(path);
  try {
    await writeFileExclusive(temporary, text);
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
  await fsyncFolder(dirname(resolve(path)));
}

/**
 * Step 5, once `path` exists: the claim and temporaries left by crashed or racing creators go (a creator
 * still running then finds `path` and uses it). Best effort: a leftover never stops a key from loading.
 */
export async function removeCreationLeftovers(path: string): Promise<void> {
  const folder = dirname(resolve(path));
  const prefix = `${basename(path)}.`;
  try {
    const leftovers = (await readdir(folder)).filter((name) => {
      const rest = name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
      return rest !== undefined && (rest === 'creating' || TEMPORARY.test(rest));
    });
    if (leftovers.length === 0) return;
    for (const name of leftovers) await rm(join(folder, name), { recursive: true, force: true });
    await fsyncFolder(folder);
  } catch {
    // Left for the next start.
  }
}

const TEMPORARY = /^\d+\.[0-9a-f]{12}\.tmp$/;

function temporaryName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/** Creates `folder` and any missing parents with mode 0700 (exactly, regardless of umask). */
async function ensurePrivateFolder(folder: string): Promise<void> {
  const first = await mkdir(folder, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // Every folder from the first one created down to `folder` is ours: pin it to 0700.
  let current = first;
  await chmod(current, 0o700);
  for (const part of relative(first, folder).split(sep).filter(Boolean)) {
    current = join(current, part);
    await chmod(current, 0o700);
  }
}

async function writeFileExclusive(path: string, content: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.chmod(0o600); // the umask can only remove bits, but be exact
    await handle.writeFile(content, { encoding: 'utf8' });
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, fsConstants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory; the files themselves are already durable.
  } finally {
    await handle?.close();
  }
}

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
