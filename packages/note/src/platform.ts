import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/**
 * What verifying a note needs from the platform, behind one seam so that the verifying half of this
 * package (the `@fieldproof/note/verify` entry) loads in a browser bundle as well as in Node:
 *
 * - SHA-256 (key ids): @noble/hashes everywhere — it hashes a few dozen bytes per key;
 * - base64: Node's `Buffer` where it exists, `atob`/`btoa` elsewhere (both strict, see encoding.ts);
 * - Ed25519 verification: node:crypto (OpenSSL, about ten times a pure-JS verifier) reached through
 *   `process.getBuiltinModule`, never an import; where there is none, the implementation given to
 *   {@link setEd25519Verify} (e.g. `@noble/curves`' `ed25519.verify`, which a browser bundle supplies).
 */

export const sha256: (data: Uint8Array) => Uint8Array = nobleSha256;

/** `(publicKey[32], message, signature[64]) → valid`; never throws for a bad signature. */
export type Ed25519Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

type BufferLike = {
  from(
    data: ArrayBufferLike | string,
    offsetOrEncoding?: number | string,
    length?: number,
  ): Uint8Array & {
    toString(encoding: string): string;
  };
};
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

export function base64Encode(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Precondition: `text` has the shape of padded base64 (encoding.ts checks it, and re-encodes to compare). */
export function base64Decode(text: string): Uint8Array {
  if (NodeBuffer !== undefined) {
    const bytes = NodeBuffer.from(text, 'base64');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

interface NodeCrypto {
  createPublicKey(options: { key: object; format: 'jwk' }): unknown;
  verify(algorithm: null, data: Uint8Array, key: unknown, signature: Uint8Array): boolean;
}

function nodeEd25519(): Ed25519Verify | undefined {
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const crypto = host?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  if (crypto === undefined || NodeBuffer === undefined) return undefined;
  // A JWK import costs about a tenth of a DER import (7 µs against 70 µs), and every receipt
  // verification imports the device key: keep the last few key objects.
  const keys = new Map<string, unknown>();
  return (publicKey, message, signature) => {
    const x = NodeBuffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
      'base64url',
    );
    let key = keys.get(x);
    if (key === undefined) {
      try {
        key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
      } catch {
        return false;
      }
      if (keys.size >= 64) keys.delete(keys.keys().next().value!);
      keys.set(x, key);
    }
    try {
      return crypto.verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

let ed25519Impl: Ed25519Verify | undefined = nodeEd25519();

/**
 * Gives the verifier an Ed25519 implementation where node:crypto is absent (a browser bundle:
 * `setEd25519Verify((k, m, s) => ed25519.verify(s, m, k))` with @noble/curves). In Node it replaces
 * node:crypto (tests compare the two).
 */
export function setEd25519Verify(verify: Ed25519Verify): void {
  ed25519Impl = verify;
}

/** Whether `signature` signs `message` under `publicKey`. Throws only when no implementation exists. */
export function ed25519VerifyRaw(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (ed25519Impl === undefined) {
    throw new Error(
      'no Ed25519 verifier on this platform (no node:crypto): call setEd25519Verify from @fieldproof/note/verify',
    );
  }
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  return ed25519Impl(publicKey, message, signature);
}
