import { ED25519_PUBLIC_KEY_SIZE } from './ed25519-sizes.js';
import { keyIdOf } from './verifier-key.js';
import { ed25519VerifyRaw } from './platform.js';
import { decodeBase64Strict, encodeBase64, isValidKeyName, splitFirst, utf8 } from './encoding.js';
import { MalformedKeyError, MalformedNoteError, NoteError, formatKeyId } from './errors.js';
import { parseSignedNote, type NoteSigner } from './signed-note.js';

/**
 * C2SP tlog-cosignature/v1 (https://c2sp.org/tlog-cosignature), Ed25519 type: a witness's timestamped
 * statement that a checkpoint is the largest consistent tree head it has seen for that origin.
 *
 * ```
 * signed message = "cosignature/v1\n" ‖ "time <POSIX seconds>\n" ‖ checkpoint note text
 * signature line = "— <witness name> " base64(key id[4] ‖ timestamp u64 BE[8] ‖ Ed25519 signature[64])
 * key id         = SHA-256(<name> ‖ "\n" ‖ 0x04 ‖ public key)[:4]
 * verifier key   = <name>+<8 hex key id>+base64(0x04 ‖ public key)
 * ```
 *
 * The message does not commit to the witness name, so a cosigner key must never sign anything else.
 */

/** C2SP signature type of Ed25519 cosignatures (the key id's algorithm byte). */
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

const HEADER = 'cosignature/v1\n';
const SIGNATURE_PREFIX = '\u2014 ';
const MAX_TIMESTAMP = 2n ** 63n - 1n;

/** A verified (or freshly made) cosignature. */
export interface Cosignature {
  readonly name: string;
  readonly keyId: number;
  /** POSIX seconds at which the witness cosigned. */
  readonly timestamp: number;
  /** The note signature line, `— <name> <base64>\n`. */
  readonly line: string;
}

/** A witness that cosigns checkpoints. Built from an Ed25519 key (see {@link createCosigner}). */
export interface Cosigner {
  readonly name: string;
  /** Key id under signature type 0x04 (not the key's signed-note id). */
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** `<name>+<key id>+<base64(0x04 ‖ public key)>`: what clients pin to check cosignatures. */
  readonly verifierKey: string;
  /** Cosigns the checkpoint note text `checkpointText` (no signature lines) at `timestamp` (POSIX s). */
  cosign(checkpointText: string, timestamp: number): Cosignature;
}

/** SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4], big-endian. */
export function cosignerKeyIdOf(name: string, publicKey: Uint8Array): number {
  return keyIdOf(name, publicKey, SIGNATURE_TYPE_COSIGNATURE_V1);
}

/** The cosigner verifier key string for `name` and a raw Ed25519 public key. */
export function formatCosignerKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new MalformedKeyError(`invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new MalformedKeyError(`Ed25519 public key must be ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  const typed = new Uint8Array([SIGNATURE_TYPE_COSIGNATURE_V1, ...publicKey]);
  return `${name}+${formatKeyId(cosignerKeyIdOf(name, publicKey))}+${encodeBase64(typed)}`;
}

/** Parses a cosigner verifier key (type 0x04 only; the key id must match). */
export function parseCosignerKey(vkey: string): { name: string; keyId: number; publicKey: Uint8Array } {
  const parts = typeof vkey === 'string' ? splitFirst(vkey, '+', 2) : undefined;
  if (parts === undefined) throw new MalformedKeyError('cosigner key must be <name>+<key id>+<base64 key>');
  const [name = '', idHex = '', key64 = ''] = parts;
  if (!isValidKeyName(name)) throw new MalformedKeyError(`invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new MalformedKeyError('key id must be 8 lowercase hex digits');
  const typed = decodeBase64Strict(key64);
  if (typed === undefined || typed[0] !== SIGNATURE_TYPE_COSIGNATURE_V1) {
    throw new MalformedKeyError('not a cosignature/v1 key (signature type 0x04)');
  }
  const publicKey = typed.slice(1);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new MalformedKeyError(`Ed25519 public key must be ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  const keyId = Number.parseInt(idHex, 16);
  if (keyId !== cosignerKeyIdOf(name, publicKey)) throw new MalformedKeyError('key id does not match');
  return { name, keyId, publicKey };
}

/** The exact bytes a cosignature/v1 signs. */
export function cosignedMessage(checkpointText: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new NoteError('invalid cosignature timestamp');
  return utf8(`${HEADER}time ${timestamp}\n${checkpointText}`);
}

/**
 * A cosigner over an Ed25519 signing key (e.g. the collector's witness key file, read with
 * `loadOrCreateDeviceKey`): same key, used only for cosignatures, under its own key id.
 */
export function createCosigner(key: NoteSigner & { readonly publicKey: Uint8Array }): Cosigner {
  const { name, publicKey } = key;
  const keyId = cosignerKeyIdOf(name, publicKey);
  return {
    name,
    keyId,
    publicKey,
    verifierKey: formatCosignerKey(name, publicKey),
    cosign(checkpointText, timestamp) {
      const signature = key.sign(cosignedMessage(checkpointText, timestamp));
      const field = new Uint8Array(4 + 8 + signature.length);
      const view = new DataView(field.buffer);
      view.setUint32(0, keyId);
      view.setBigUint64(4, BigInt(timestamp));
      field.set(signature, 12);
      return { name, keyId, timestamp, line: `${SIGNATURE_PREFIX}${name} ${encodeBase64(field)}\n` };
    },
  };
}

/**
 * Finds and verifies the cosignature by `cosignerKey` in `signedNote` (a checkpoint note carrying the
 * log's signature and cosignature lines, or the note with the cosignature line appended). Throws
 * `NoteError` when there is none by that key or it does not verify.
 */
export function verifyCosignature(signedNote: string, cosignerKey: string): Cosignature {
  const key = parseCosignerKey(cosignerKey);
  const { text, signatures } = parseSignedNote(signedNote);
  for (const s of signatures) {
    if (s.name !== key.name || s.keyId !== key.keyId) continue;
    const bytes = decodeBase64Strict(s.base64);
    if (bytes === undefined || bytes.length !== 4 + 8 + 64) {
      throw new MalformedNoteError('cosignature line is not key id, timestamp and a 64-byte signature');
    }
    const stamp = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(4);
    if (stamp > MAX_TIMESTAMP || stamp > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new MalformedNoteError('cosignature timestamp out of range');
    }
    const timestamp = Number(stamp);
    if (!ed25519VerifyRaw(key.publicKey, cosignedMessage(text, timestamp), bytes.subarray(12))) {
      throw new NoteError(`invalid cosignature by ${key.name}+${formatKeyId(key.keyId)}`);
    }
    return {
      name: key.name,
      keyId: key.keyId,
      timestamp,
      line: `${SIGNATURE_PREFIX}${s.name} ${s.base64}\n`,
    };
  }
  throw new NoteError(`no cosignature by ${key.name}+${formatKeyId(key.keyId)}`);
}
