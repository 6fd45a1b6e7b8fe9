import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHA256_BACKEND, hashChildren, hashLeaf, hashLeafUtf8, sha256, toHex } from '../src/index.js';
import { sha256Backends } from '../src/hash/hasher.js';

// The hasher runs on node:crypto's one-shot hash where it exists and on @noble/hashes elsewhere (a
// browser verifier): the two must never differ, or a receipt would verify in one place and not the other.
describe('SHA-256 backends', () => {
  const { node, noble } = sha256Backends;

  it('on Node, the hasher is node:crypto', () => {
    expect(SHA256_BACKEND).toBe('node:crypto');
    expect(node).toBeDefined();
    expect(sha256).toBe(node);
  });

  it('both give the FIPS 180-2 digests', () => {
    const vectors: [string, string][] = [
      ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
      ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
      [
        'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
        '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
      ],
    ];
    for (const [text, digest] of vectors) {
      const bytes = new TextEncoder().encode(text);
      expect(toHex(node!(bytes))).toBe(digest);
      expect(toHex(noble(bytes))).toBe(digest);
    }
  });

  it('both give identical digests on random inputs (around the 64-byte block size and the 65-byte node)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 200 }),
          fc.uint8Array({ minLength: 55, maxLength: 66 }),
          fc.uint8Array({ minLength: 0, maxLength: 5000 }),
        ),
        (data) => {
          expect(toHex(node!(data))).toBe(toHex(noble(data)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('leaf and node hashes agree with @noble/hashes on random inputs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (data, left, right) => {
          expect(toHex(hashLeaf(data))).toBe(toHex(noble(Uint8Array.of(0, ...data))));
          expect(toHex(hashChildren(left, right))).toBe(toHex(noble(Uint8Array.of(1, ...left, ...right))));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('hex is lowercase, two digits a byte, at any length (also past one 4096-byte chunk)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 4000, maxLength: 9000 })),
        (data) => {
          expect(toHex(data)).toBe(Buffer.from(data).toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
    expect(toHex(new Uint8Array(0))).toBe('');
  });

  it('a text leaf hashes as the UTF-8 bytes of its text, on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const utf8 = new TextEncoder().encode(text);
        expect(toHex(hashLeafUtf8(text))).toBe(toHex(noble(Uint8Array.of(0, ...utf8))));
      }),
      { numRuns: 1000 },
    );
    // U+0000 inside the text is a 0x00 byte of the data, not a second prefix.
    expect(hashLeafUtf8('\u0000a')).toEqual(hashLeaf(Uint8Array.of(0, 0x61)));
  });

  it('without node:crypto (as in a browser) the package loads and hashes with @noble/hashes', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `delete process.getBuiltinModule;
      const m = await import(${JSON.stringify(dist)});
      const leaf = m.toHex(m.hashLeaf(new Uint8Array([1, 2, 3])));
      const text = m.toHex(m.hashLeafUtf8('é€😀'));
      console.log(JSON.stringify([m.SHA256_BACKEND, m.toHex(m.EMPTY_ROOT), leaf, text]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([
      '@noble/hashes',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      toHex(hashLeaf(new Uint8Array([1, 2, 3]))),
      toHex(hashLeaf(new TextEncoder().encode('é€😀'))),
    ]);
  });

  it('hashes are plain 32-byte Uint8Arrays of their own (slice copies, nothing shared)', () => {
    const a = hashLeaf(new Uint8Array([1]));
    const b = hashLeaf(new Uint8Array([2]));
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
    expect(a.length).toBe(32);
    expect(a.buffer.byteLength).toBe(32);
    expect(a.buffer).not.toBe(b.buffer);
    const copy = a.slice();
    copy[0] = copy[0]! ^ 0xff;
    expect(copy[0]).not.toBe(a[0]);
  });
});
