import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MalformedCheckpointError,
  formatCheckpoint,
  generateDeviceKey,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from '../src/index.js';

// The example of https://c2sp.org/tlog-checkpoint.
const C2SP_EXAMPLE = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const ROOT = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');

describe('checkpoints', () => {
  it('parses the C2SP example and formats it back', () => {
    const checkpoint = parseCheckpoint(C2SP_EXAMPLE);
    expect(checkpoint).toEqual({
      origin: 'example.com/behind-the-sofa',
      treeSize: 20852163,
      root: new Uint8Array(ROOT),
    });
    expect(formatCheckpoint(checkpoint)).toBe(C2SP_EXAMPLE);
  });

  it('round-trips extension lines and the empty tree', () => {
    const withExtensions = { origin: 'o', treeSize: 0, root: new Uint8Array(32), extensions: ['x', 'y z'] };
    expect(formatCheckpoint(withExtensions)).toBe(`o\n0\n${'A'.repeat(43)}=\nx\ny z\n`);
    expect(parseCheckpoint(formatCheckpoint(withExtensions))).toEqual(withExtensions);
  });

  it('round-trips any checkpoint', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => ![...s].some((c) => c < ' ')),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (origin, treeSize, root) => {
          expect(parseCheckpoint(formatCheckpoint({ origin, treeSize, root }))).toEqual({
            origin,
            treeSize,
            root,
          });
        },
      ),
    );
  });

  const lines = (...l: string[]) => l.map((x) => `${x}\n`).join('');
  const root64 = ROOT.toString('base64');
  it.each([
    ['no final newline', C2SP_EXAMPLE.slice(0, -1)],
    ['only two lines', lines('o', '1')],
    ['empty origin', lines('', '1', root64)],
    ['leading zero', lines('o', '01', root64)],
    ['sign', lines('o', '+1', root64)],
    ['negative size', lines('o', '-1', root64)],
    ['decimal point', lines('o', '1.0', root64)],
    ['exponent', lines('o', '1e3', root64)],
    ['spaces around the size', lines('o', ' 1', root64)],
    ['empty size', lines('o', '', root64)],
    ['size beyond 2^53 - 1', lines('o', '9007199254740992', root64)],
    ['hex size', lines('o', '0x10', root64)],
    ['31-byte root', lines('o', '1', ROOT.subarray(1).toString('base64'))],
    ['33-byte root', lines('o', '1', Buffer.concat([ROOT, Buffer.from([0])]).toString('base64'))],
    ['unpadded root', lines('o', '1', root64.slice(0, -1))],
    ['non-canonical root padding bits', lines('o', '1', `${root64.slice(0, -2)}3=`)],
    ['url-safe base64 root', lines('o', '1', Buffer.alloc(32, 0xfb).toString('base64url') + '=')],
    ['hex root', lines('o', '1', ROOT.toString('hex'))],
    ['empty extension line', lines('o', '1', root64, '')],
    ['carriage return', 'o\r\n1\n' + root64 + '\n'],
    ['tab in origin', lines('o\t', '1', root64)],
  ])('refuses %s', (_name, text) => {
    expect(() => parseCheckpoint(text)).toThrow(MalformedCheckpointError);
  });

  it.each([
    ['empty origin', { origin: '', treeSize: 1, root: new Uint8Array(32) }],
    ['origin with newline', { origin: 'a\nb', treeSize: 1, root: new Uint8Array(32) }],
    ['negative size', { origin: 'o', treeSize: -1, root: new Uint8Array(32) }],
    ['fractional size', { origin: 'o', treeSize: 1.5, root: new Uint8Array(32) }],
    ['unsafe size', { origin: 'o', treeSize: 2 ** 53, root: new Uint8Array(32) }],
    ['short root', { origin: 'o', treeSize: 1, root: new Uint8Array(31) }],
    ['empty extension', { origin: 'o', treeSize: 1, root: new Uint8Array(32), extensions: [''] }],
  ])('refuses to format %s', (_name, checkpoint) => {
    expect(() => formatCheckpoint(checkpoint)).toThrow(MalformedCheckpointError);
  });

  it('signs and opens a checkpoint', () => {
    const key = generateDeviceKey('example.com/behind-the-sofa');
    const checkpoint = parseCheckpoint(C2SP_EXAMPLE);
    const note = signCheckpoint(checkpoint, key);
    expect(note.startsWith(`${C2SP_EXAMPLE}\n— example.com/behind-the-sofa `)).toBe(true);
    expect(openCheckpoint(note, key.verifierKey).checkpoint).toEqual(checkpoint);
  });
});
