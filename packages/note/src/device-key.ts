/**
 * The device's Ed25519 signing key, and the one file this package reads and writes.
 *
 * Key file format (the signer key form of golang.org/x/mod/sumdb/note, so `note.NewSigner` reads it):
 *
 * ```
 * PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte Ed25519 seed)>\n
 * ```
 *
 * The file is created 0600 (its folder 0700 when it has to be created) and refused when group or
 * others have any access to it. A `DeviceKey` never reveals its private key: `toString`, `toJSON` and
 * `util.inspect` show only the name and public key.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, link, mkdir, open, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { inspect } from 'node:util';
import { ED25519_SEED_SIZE, ed25519Sign, privateKeyObject, rawPublicKey } from './ed25519.js';
import { decodeBase64Strict, encodeBase64, isValidKeyName, splitFirst } from './encoding.js';
import { DeviceKeyError, InsecureKeyFileError, MalformedKeyError, formatKeyId } from './errors.js';
import type { NoteSigner } from './signed-note.js';
import {
  SIGNATURE_TYPE_ED25519,
  createNoteVerifier,
  formatVerifierKey,
  keyIdOf,
  type NoteVerifier,
} from './verifier-key.js';

/** The device's signing key. Signs checkpoints; its `verifierKey` is what verifiers pin. */
export class DeviceKey implements NoteSigner {
  /** Key name (C2SP: no spaces, no `+`); by convention the log origin. */
  readonly name: string;
  readonly keyId: number;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** `<name>+<key id>+<base64(0x01 ‖ public key)>`. */
  readonly verifierKey: string;
  readonly #privateKey: KeyObject;

  /** Precondition: `seed` is 32 bytes and `name` a valid key name (use `deviceKeyFromSeed`). */
  constructor(seed: Uint8Array, name: string) {
    if (!isValidKeyName(name)) throw new MalformedKeyError(`invalid key name ${JSON.stringify(name)}`);
    if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_SIZE) {
      throw new MalformedKeyError(`Ed25519 seed must be ${ED25519_SEED_SIZE} bytes`);
    }
    this.#privateKey = privateKeyObject(seed);
    this.name = name;
    this.publicKey = rawPublicKey(this.#privateKey);
    this.keyId = keyIdOf(name, this.publicKey);
    this.verifierKey = formatVerifierKey(name, this.publicKey);
  }

  /** Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array {
    return ed25519Sign(this.#privateKey, message);
  }

  /** A verifier for this key's signatures. */
  verifier(): NoteVerifier {
    return createNoteVerifier(this.verifierKey);
  }

  toString(): string {
    return `DeviceKey(${this.verifierKey})`;
  }

  toJSON(): { name: string; keyId: string; verifierKey: string } {
    return { name: this.name, keyId: formatKeyId(this.keyId), verifierKey: this.verifierKey };
  }

  [inspect.custom](): string {
    return `DeviceKey { name: ${JSON.stringify(this.name)}, verifierKey: ${JSON.stringify(this.verifierKey)} }`;
  }
}

/** A device key from a 32-byte Ed25519 seed, e.g. one supplied through a secret-store variable. */
export function deviceKeyFromSeed(seed: Uint8Array, name: string): DeviceKey {
  return new DeviceKey(seed, name);
}

/** A new random device key, in memory only. */
export function generateDeviceKey(name: string): DeviceKey {
  const seed = randomBytes(ED25519_SEED_SIZE);
  try {
    return new DeviceKey(seed, name);
  } finally {
    seed.fill(0);
  }
}

const SIGNER_KEY_PREFIX = 'PRIVATE+KEY+';

/**
 * Parses the signer key form `PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ seed)>` (surrounding
 * whitespace ignored). The key id must match the key. Error messages never echo the input.
 */
export function deviceKeyFromSignerKey(signerKey: string): DeviceKey {
  const text = signerKey.trim();
  if (!text.startsWith(SIGNER_KEY_PREFIX))
    throw new MalformedKeyError('signer key must start with PRIVATE+KEY+');
  const parts = splitFirst(text.slice(SIGNER_KEY_PREFIX.length), '+', 2);
  if (parts === undefined)
    throw new MalformedKeyError('signer key must be PRIVATE+KEY+<name>+<key id>+<base64 key>');
  const [name = '', idHex = '', key64 = ''] = parts;
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new MalformedKeyError('key id must be 8 lowercase hex digits');
  const typed = decodeBase64Strict(key64);
  if (typed === undefined || typed.length !== 1 + ED25519_SEED_SIZE || typed[0] !== SIGNATURE_TYPE_ED25519) {
    typed?.fill(0);
    throw new MalformedKeyError('signer key must hold 0x01 followed by a 32-byte Ed25519 seed, in base64');
  }
  try {
    const key = new DeviceKey(typed.subarray(1), name);
    if (formatKeyId(key.keyId) !== idHex) throw new MalformedKeyError('key id does not match name and key');
    return key;
  } finally {
    typed.fill(0);
  }
}

function formatSignerKey(seed: Uint8Array, name: string, keyId: number): string {
  const typed = new Uint8Array(1 + seed.length);
  typed[0] = SIGNATURE_TYPE_ED25519;
  typed.set(seed, 1);
  try {
    return `${SIGNER_KEY_PREFIX}${name}+${formatKeyId(keyId)}+${encodeBase64(typed)}\n`;
  } finally {
    typed.fill(0);
  }
}

export interface DeviceKeyFileOptions {
  /**
   * Key name. Required to create a key; when loading, a file holding a key under a different name is
   * refused (the name is part of the key id every verifier pins).
   */
  readonly name?: string;
}

const MAX_KEY_FILE_SIZE = 4096;

/**
 * Loads the device key from `path`. Throws `InsecureKeyFileError` when group or others have any access
 * to the file, `DeviceKeyError` when it is missing, not a regular file, malformed or for another name.
 */
export async function loadDeviceKey(path: string, options: DeviceKeyFileOptions = {}): Promise<DeviceKey> {
  const key = await readKeyFile(path, options.name);
  if (key === undefined) throw new DeviceKeyError(path, 'does not exist');
  return key;
}

/**
 * Loads the device key from `path`, or creates it there (folder 0700 if it has to be made, file
 * 0600, written to a temporary file, fsynced, then linked into place so no reader ever sees a partial
 * file and two racing processes end up with the same key).
 */
export async function loadOrCreateDeviceKey(
  path: string,
  options: { readonly name: string },
): Promise<DeviceKey> {
  const existing = await readKeyFile(path, options.name);
  if (existing !== undefined) return existing;
  const seed = randomBytes(ED25519_SEED_SIZE);
  try {
    const key = new DeviceKey(seed, options.name);
    await ensurePrivateFolder(dirname(resolve(path)));
    try {
      await writeNewFile(path, formatSignerKey(seed, key.name, key.keyId));
    } catch (err) {
      if (errorCode(err) === 'EEXIST') return await loadDeviceKey(path, options);
      throw new DeviceKeyError(path, `cannot create: ${errorText(err)}`, { cause: err });
    }
    return key;
  } finally {
    seed.fill(0);
  }
}

async function readKeyFile(path: string, expectedName: string | undefined): Promise<DeviceKey | undefined> {
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
    const text = await handle.readFile({ encoding: 'utf8' });
    let key: DeviceKey;
    try {
      key = deviceKeyFromSignerKey(text);
    } catch (err) {
      throw new DeviceKeyError(path, errorText(err), { cause: err });
    }
    if (expectedName !== undefined && key.name !== expectedName) {
      throw new DeviceKeyError(
        path,
        `holds the key named ${JSON.stringify(key.name)}, but the configured name is ${JSON.stringify(expectedName)}`,
      );
    }
    return key;
  } finally {
    await handle.close();
  }
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

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Writes `content` to a new file at `path` (0600, fsynced); throws `EEXIST` if `path` exists. */
async function writeNewFile(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFileExclusive(temporary, content);
  try {
    await link(temporary, path); // atomic, and fails with EEXIST when another process won the race
  } catch (err) {
    if (!NO_HARD_LINKS.has(errorCode(err) ?? '')) throw err;
    await writeFileExclusive(path, content); // file systems without hard links: `wx` still refuses races
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await fsyncFolder(dirname(resolve(path)));
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
    // Some platforms cannot fsync a directory; the file itself is already durable.
  } finally {
    await handle?.close();
  }
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
