import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANCHOR_MAGIC, AnchorPayloadError, decodeAnchorPayload, encodeAnchorPayload } from '../src/index.js';

const ROOT = Uint8Array.from({ length: 32 }, (_, i) => i);
const PAYLOAD = { origin: 'fieldproof.example/unit-7', treeSize: 258, root: ROOT };

describe('anchor payload FPA1', () => {
  it('has the documented byte layout', () => {
    const bytes = encodeAnchorPayload(PAYLOAD);
    const hex = Buffer.from(bytes).toString('hex');
    expect(hex).toBe(
      '46504131' + // "FPA1"
        Buffer.from(ROOT).toString('hex') + // root
        '0000000000000102' + // treeSize 258, uint64 BE
        '0019' + // origin length 25, uint16 BE
        Buffer.from(PAYLOAD.origin).toString('hex'),
    );
    expect(Array.from(bytes.subarray(0, 4))).toEqual(Array.from(ANCHOR_MAGIC));
    expect(bytes).toHaveLength(4 + 32 + 8 + 2 + 25);
  });

  it('decodes bytes and hex with or without 0x, any case', () => {
    const bytes = encodeAnchorPayload(PAYLOAD);
    const hex = Buffer.from(bytes).toString('hex');
    for (const input of [bytes, hex, `0x${hex}`, `0x${hex.toUpperCase()}`]) {
      expect(decodeAnchorPayload(input)).toEqual(PAYLOAD);
    }
  });

  it('round-trips any payload', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 300 }).filter((s) => !/\p{Surrogate}/u.test(s)),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (origin, treeSize, root) => {
          expect(decodeAnchorPayload(encodeAnchorPayload({ origin, treeSize, root }))).toEqual({
            origin,
            treeSize,
            root,
          });
        },
      ),
    );
  });

  const valid = Buffer.from(encodeAnchorPayload(PAYLOAD));
  const patched = (offset: number, bytes: number[]) => {
    const copy = Buffer.from(valid);
    copy.set(bytes, offset);
    return copy;
  };
  it.each([
    ['empty', Buffer.alloc(0), /shorter than the header/],
    ['header only, 45 bytes', valid.subarray(0, 45), /shorter than the header/],
    ['wrong magic', patched(0, [0x46, 0x50, 0x41, 0x32]), /magic/],
    ['one byte missing', valid.subarray(0, valid.length - 1), /length is 70 bytes, the header says 71/],
    ['one byte too many', Buffer.concat([valid, Buffer.from([0])]), /length is 72 bytes, the header says 71/],
    ['origin length too large', patched(44, [0x00, 0x1a]), /header says/],
    ['empty origin', Buffer.concat([patched(44, [0, 0]).subarray(0, 46)]), /origin is empty/],
    ['invalid UTF-8 origin', patched(46, [0xff]), /UTF-8/],
    ['tree size beyond 2^53 - 1', patched(36, [0, 0x20, 0, 0, 0, 0, 0, 0]), /exceeds/],
    ['ABI-encoded call', Buffer.concat([Buffer.from('a9059cbb', 'hex'), valid]), /magic/],
  ])('refuses %s', (_name, bytes, message) => {
    expect(() => decodeAnchorPayload(new Uint8Array(bytes))).toThrow(AnchorPayloadError);
    expect(() => decodeAnchorPayload(new Uint8Array(bytes))).toThrow(message);
  });

  it.each(['0x', '0x0', 'zz', `0x${valid.toString('hex')}0`, ` ${valid.toString('hex')}`])(
    'refuses hex %j',
    (hex) => {
      expect(() => decodeAnchorPayload(hex)).toThrow(AnchorPayloadError);
    },
  );

  it.each([
    ['empty origin', { ...PAYLOAD, origin: '' }],
    ['origin over 65535 bytes', { ...PAYLOAD, origin: 'é'.repeat(32768) }],
    ['lone surrogate', { ...PAYLOAD, origin: '\udc00' }],
    ['negative size', { ...PAYLOAD, treeSize: -1 }],
    ['unsafe size', { ...PAYLOAD, treeSize: 2 ** 53 }],
    ['short root', { ...PAYLOAD, root: ROOT.subarray(1) }],
  ])('refuses to encode %s', (_name, payload) => {
    expect(() => encodeAnchorPayload(payload)).toThrow(AnchorPayloadError);
  });

  it('fits the longest origin exactly', () => {
    const origin = 'a'.repeat(65535);
    expect(decodeAnchorPayload(encodeAnchorPayload({ ...PAYLOAD, origin })).origin).toBe(origin);
  });
});
