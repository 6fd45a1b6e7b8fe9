import { ED25519_PUBLIC_KEY_SIZE } from './ed25519-sizes.js';
import { ed25519VerifyRaw, sha256 } from './platform.js';
import { decodeBase64Strict, encodeBase64, isValidKeyName, splitFirst, utf8 } from './encoding.js';
import { MalformedKeyError, formatKeyId } from './errors.js';

/** C2SP signed-note signature type of Ed25519 signatures. */
export const SIGNATURE_TYPE_ED25519 = 0x01;

/** Checks signatures by one key; what `openNote` needs to know about a trusted key. */
export interface NoteVerifier {
  /** Key name as it appears in signature lines. */
  readonly name: string;
  /** uint32 key id, the first four bytes of each signature. */
  readonly keyId: number;
  /** Whether `signature` (without the key id prefix) signs `message`. */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A parsed verifier key. */
export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/**
 * The C2SP key id: the first four bytes, big-endian, of
 * SHA-256(name ‖ 0x0A ‖ signature type ‖ public key).
 */
export function keyIdOf(name: string, publicKey: Uint8Array, signatureType = SIGNATURE_TYPE_ED25519): number {
  const nameBytes = utf8(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input.set([0x0a, signatureType], nameBytes.length);
  input.set(publicKey, nameBytes.length + 2);
  const digest = sha256(input);
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

/** `<name>+<8 hex key id>+<base64(0x01 ‖ public key)>`, the key string verifiers configure. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new MalformedKeyError(`invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new MalformedKeyError(
      `Ed25519 public key must be ${ED25519_PUBLIC_KEY_SIZE} bytes, got ${publicKey.length}`,
    );
  }
  const typed = new Uint8Array([SIGNATURE_TYPE_ED25519, ...publicKey]);
  return `${name}+${formatKeyId(keyIdOf(name, publicKey))}+${encodeBase64(typed)}`;
}

const KEY_ID_HEX = /^[0-9a-f]{8}$/;

/**
 * Parses a verifier key string. Only Ed25519 (type 0x01) keys are accepted; the key id must be
 * 8 lowercase hex digits and equal the id computed from name and key.
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  if (typeof vkey !== 'string') throw new MalformedKeyError('verifier key must be a string');
  const parts = splitFirst(vkey, '+', 2);
  if (parts === undefined) throw new MalformedKeyError('verifier key must be <name>+<key id>+<base64 key>');
  const [name = '', idHex = '', key64 = ''] = parts;
  if (!isValidKeyName(name)) throw new MalformedKeyError(`invalid key name ${JSON.stringify(name)}`);
  if (!KEY_ID_HEX.test(idHex)) throw new MalformedKeyError('key id must be 8 lowercase hex digits');
  const typed = decodeBase64Strict(key64);
  if (typed === undefined || typed.length === 0) throw new MalformedKeyError('key is not canonical base64');
  if (typed[0] !== SIGNATURE_TYPE_ED25519) {
    throw new MalformedKeyError(
      `unsupported signature type 0x${(typed[0] ?? 0).toString(16).padStart(2, '0')}`,
    );
  }
  const publicKey = typed.slice(1);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new MalformedKeyError(
      `Ed25519 public key must be ${ED25519_PUBLIC_KEY_SIZE} bytes, got ${publicKey.length}`,
    );
  }
  const keyId = Number.parseInt(idHex, 16);
  if (keyId !== keyIdOf(name, publicKey)) throw new MalformedKeyError('key id does not match name and key');
  return { name, keyId, publicKey };
}

class Ed25519NoteVerifier implements NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly #key: Uint8Array;

  constructor(key: VerifierKey) {
    this.name = key.name;
    this.keyId = key.keyId;
    this.#key = key.publicKey;
  }

  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return ed25519VerifyRaw(this.#key, message, signature);
  }
}

// Verifiers are immutable, so the few keys a process meets (usually one device key) are parsed once.
const CACHE_SIZE = 256;
const cache = new Map<string, NoteVerifier>();

/** A `NoteVerifier` for a verifier key string (or an already parsed key). */
export function createNoteVerifier(key: string | VerifierKey): NoteVerifier {
  if (typeof key === 'string') {
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const verifier = new Ed25519NoteVerifier(parseVerifierKey(key));
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, verifier);
    return verifier;
  }
  const checked = parseVerifierKey(formatVerifierKey(key.name, key.publicKey));
  if (checked.keyId !== key.keyId) throw new MalformedKeyError('key id does not match name and key');
  return new Ed25519NoteVerifier(checked);
}
