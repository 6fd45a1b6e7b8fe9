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
import { inspect } from 'node:util';
import { ED25519_SEED_SIZE, ed25519Sign, privateKeyObject, rawPublicKey } from './ed25519.js';
import { decodeBase64Strict, encodeBase64, isValidKeyName, splitFirst } from './encoding.js';
import { DeviceKeyError, MalformedKeyError, NoteError, formatKeyId } from './errors.js';
import { createKeyFileOnce, errorText, readKeyFileText, removeCreationLeftovers } from './key-file.js';
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
 * Loads the device key from `path`, or creates it there: folder 0700 if it has to be made, file 0600,
 * written and fsynced before it appears under its name, so no reader ever sees a partial file; racing
 * processes all end up with the one key that was published first. No hard links needed (FUSE layers,
 * exFAT/vfat have none): see key-file.ts.
 */
export async function loadOrCreateDeviceKey(
  path: string,
  options: { readonly name: string },
): Promise<DeviceKey> {
  const existing = await readKeyFile(path, options.name);
  if (existing !== undefined) {
    await removeCreationLeftovers(path); // after a crash while creating: a claim or temporaries
    return existing;
  }
  const seed = randomBytes(ED25519_SEED_SIZE);
  try {
    const key = new DeviceKey(seed, options.name);
    return await createKeyFileOnce(path, formatSignerKey(seed, key.name, key.keyId), (text, file) =>
      parseKeyFile(file, text, options.name),
    );
  } catch (err) {
    if (err instanceof NoteError) throw err;
    throw new DeviceKeyError(path, `cannot create: ${errorText(err)}`, { cause: err });
  } finally {
    seed.fill(0);
  }
}

async function readKeyFile(path: string, expectedName: string | undefined): Promise<DeviceKey | undefined> {
  const text = await readKeyFileText(path);
  return text === undefined ? undefined : parseKeyFile(path, text, expectedName);
}

function parseKeyFile(path: string, text: string, expectedName: string | undefined): DeviceKey {
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
}
