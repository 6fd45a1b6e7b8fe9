import { describe, expect, it } from 'vitest';
import {
  MalformedKeyError,
  createNoteVerifier,
  deviceKeyFromSignerKey,
  formatVerifierKey,
  keyIdOf,
  parseVerifierKey,
} from '../src/index.js';

// golang.org/x/mod/sumdb/note vectors (note_test.go).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';

function mangled(key: string): string[] {
  const out: string[] = [];
  const b = Buffer.from(key);
  for (let i = 0; i <= b.length; i++) {
    for (let j = i + 1; j <= b.length; j++) {
      if (i !== 0 || j !== b.length) out.push(b.subarray(i, j).toString('latin1'));
    }
  }
  for (let i = 0; i < b.length; i++) {
    const c = Buffer.from(b);
    c[i] = c[i]! + 1;
    out.push(c.toString('latin1'));
  }
  return out;
}

describe('verifier keys', () => {
  it('parses the Go vector and formats it back', () => {
    const key = parseVerifierKey(PETER_VKEY);
    expect(key.name).toBe('PeterNeumann');
    expect(key.keyId).toBe(0xc74f20a3);
    expect(key.publicKey).toHaveLength(32);
    expect(keyIdOf(key.name, key.publicKey)).toBe(0xc74f20a3);
    expect(formatVerifierKey(key.name, key.publicKey)).toBe(PETER_VKEY);
    expect(createNoteVerifier(key).keyId).toBe(0xc74f20a3);
  });

  it('derives the Go verifier key from the Go signer key', () => {
    expect(deviceKeyFromSignerKey(PETER_SKEY).verifierKey).toBe(PETER_VKEY);
  });

  it('refuses every substring and every single-byte change of a verifier key', () => {
    for (const bad of mangled(PETER_VKEY)) {
      expect(() => parseVerifierKey(bad), bad).toThrow(MalformedKeyError);
    }
  });

  it('refuses every substring and every single-byte change of a signer key', () => {
    for (const bad of mangled(PETER_SKEY)) {
      expect(() => deviceKeyFromSignerKey(bad), bad).toThrow(MalformedKeyError);
    }
  });

  it.each([
    [
      'wrong key length, with adjusted key id',
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
    ],
    [
      'unknown signature type, with adjusted key id',
      'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    ],
    ['uppercase key id', 'PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['extra field', `${PETER_VKEY}+x`],
  ])('refuses %s', (_name, vkey) => {
    expect(() => parseVerifierKey(vkey)).toThrow(MalformedKeyError);
  });

  it('refuses a hand-built key whose id does not match', () => {
    const key = parseVerifierKey(PETER_VKEY);
    expect(() => createNoteVerifier({ ...key, keyId: key.keyId ^ 1 })).toThrow(MalformedKeyError);
  });

  it('refuses invalid names and key sizes when formatting', () => {
    const { publicKey } = parseVerifierKey(PETER_VKEY);
    expect(() => formatVerifierKey('a b', publicKey)).toThrow(MalformedKeyError);
    expect(() => formatVerifierKey('a+b', publicKey)).toThrow(MalformedKeyError);
    expect(() => formatVerifierKey('', publicKey)).toThrow(MalformedKeyError);
    expect(() => formatVerifierKey('a\u00a0b', publicKey)).toThrow(MalformedKeyError);
    expect(() => formatVerifierKey('ok', publicKey.subarray(1))).toThrow(MalformedKeyError);
  });
});
