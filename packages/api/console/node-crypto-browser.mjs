// What the verifier uses of node:crypto, for the browser bundle (scripts/build-console.mjs aliases
// `node:crypto` to this file): SHA-256 from @noble/hashes, Ed25519 verification from @noble/curves.
// Signing and key generation have no place in a verifier page and throw.
import { ed25519 } from '@noble/curves/ed25519';
import { sha256 } from '@noble/hashes/sha2.js';
import { Buffer } from 'buffer';

const utf8 = new TextEncoder();

export function createHash(algorithm) {
  if (algorithm !== 'sha256') throw new Error(`the browser verifier has no ${algorithm}`);
  const state = sha256.create();
  const hash = {
    update(data) {
      state.update(typeof data === 'string' ? utf8.encode(data) : new Uint8Array(data));
      return hash;
    },
    digest(encoding) {
      const out = Buffer.from(state.digest());
      return encoding === undefined ? out : out.toString(encoding);
    },
  };
  return hash;
}

/** A public key object as ed25519.ts builds it (a JWK with the raw key in `x`). */
export function createPublicKey(spec) {
  const x = spec?.key?.x;
  if (spec?.format !== 'jwk' || typeof x !== 'string')
    throw new Error('the browser verifier takes JWK Ed25519 keys');
  return {
    type: 'public',
    raw: new Uint8Array(Buffer.from(x.replace(/-/g, '+').replace(/_/g, '/'), 'base64')),
  };
}

export function verify(_algorithm, message, key, signature) {
  return ed25519.verify(new Uint8Array(signature), new Uint8Array(message), key.raw);
}

function unavailable(name) {
  return () => {
    throw new Error(`${name} is not available in the browser verifier`);
  };
}
export const createPrivateKey = unavailable('createPrivateKey');
export const sign = unavailable('sign');
export const randomBytes = unavailable('randomBytes');
export class KeyObject {}
