import { hashLeaf } from '@fieldproof/merkle';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  LEAF_FORMAT,
  LEAF_FORMAT_V2,
  LeafEncodingError,
  canonicalJson,
  encodeLeafData,
  leafHashOf,
  leafObjectOf,
  metadataDigestOf,
  type EvidenceRecord,
} from '../src/index.js';

const DIGEST = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'; // SHA-256 of nothing
const RECORD: EvidenceRecord = {
  id: '0192f3a4-5b6c-7d8e-9f01-23456789abcd',
  digest: DIGEST,
  kind: 'detection',
  occurredAt: 1730000000000,
  receivedAt: 1730000000500,
};
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('fieldproof-leaf/v1', () => {
  it('is the RFC 8785 canonical JSON of the documented object (golden vector)', () => {
    const expected =
      `{"digest":"${DIGEST}","format":"fieldproof-leaf/v1","id":"0192f3a4-5b6c-7d8e-9f01-23456789abcd",` +
      `"kind":"detection","metadataDigest":null,"occurredAt":1730000000000,"payloadMime":null,"receivedAt":1730000000500}`;
    const data = encodeLeafData(RECORD);
    expect(new TextDecoder().decode(data)).toBe(expected);
    // Leaf hash = SHA-256(0x00 ‖ data), computed here independently of @fieldproof/merkle.
    const independent = sha256(Buffer.concat([Buffer.from([0]), Buffer.from(expected)]));
    expect(Buffer.from(leafHashOf(RECORD)).toString('hex')).toBe(independent);
    expect(independent).toBe('e94fb70093dbdf25fd6098df60e42c127ec9fc0e8eb4701d347605c7f75a6f6d');
  });

  it('commits to payloadMime and the metadata digest', () => {
    const metadata = { z: [1.0, 1e21, 0.000001, 1e-7], a: 'é', '€': true, '😀': null, b: { y: 2, x: 1 } };
    const jcs = '{"a":"é","b":{"x":1,"y":2},"z":[1,1e+21,0.000001,1e-7],"€":true,"😀":null}';
    expect(canonicalJson(metadata)).toBe(jcs);
    expect(metadataDigestOf(metadata)).toBe(sha256(Buffer.from(jcs, 'utf8')));
    const text = new TextDecoder().decode(encodeLeafData({ ...RECORD, payloadMime: 'image/jpeg', metadata }));
    expect(text).toContain(`"metadataDigest":"${sha256(Buffer.from(jcs, 'utf8'))}"`);
    expect(text).toContain('"payloadMime":"image/jpeg"');
    expect(text).toContain(`"format":"${LEAF_FORMAT}"`);
  });

  it('treats absent and null metadata alike, and {} as metadata', () => {
    expect(metadataDigestOf(undefined)).toBeNull();
    expect(metadataDigestOf(null)).toBeNull();
    expect(metadataDigestOf({})).toBe(sha256('{}'));
    expect(leafHashOf({ ...RECORD, metadata: null, payloadMime: null })).toEqual(leafHashOf(RECORD));
    expect(leafHashOf({ ...RECORD, metadata: {} })).not.toEqual(leafHashOf(RECORD));
  });

  it('does not depend on key order or on fields outside the format', () => {
    const reordered = Object.fromEntries(Object.entries(RECORD).reverse()) as unknown as EvidenceRecord;
    const extra = { ...RECORD, status: 'anchored', leafIndex: 3 } as EvidenceRecord;
    expect(leafHashOf(reordered)).toEqual(leafHashOf(RECORD));
    expect(leafHashOf(extra)).toEqual(leafHashOf(RECORD));
    expect(leafHashOf({ ...RECORD, metadata: { b: 1, a: 2 } })).toEqual(
      leafHashOf({ ...RECORD, metadata: { a: 2, b: 1 } }),
    );
  });

  it('changes with every field', () => {
    const base = leafHashOf({ ...RECORD, payloadMime: 'text/plain', metadata: { a: 1 } });
    const variants: EvidenceRecord[] = [
      { ...RECORD, id: `${RECORD.id}0`, payloadMime: 'text/plain', metadata: { a: 1 } },
      { ...RECORD, digest: `${'0'.repeat(63)}1`, payloadMime: 'text/plain', metadata: { a: 1 } },
      { ...RECORD, kind: 'detection2', payloadMime: 'text/plain', metadata: { a: 1 } },
      { ...RECORD, occurredAt: RECORD.occurredAt + 1, payloadMime: 'text/plain', metadata: { a: 1 } },
      { ...RECORD, receivedAt: RECORD.receivedAt + 1, payloadMime: 'text/plain', metadata: { a: 1 } },
      { ...RECORD, payloadMime: 'text/html', metadata: { a: 1 } },
      { ...RECORD, payloadMime: 'text/plain', metadata: { a: 2 } },
      { ...RECORD, payloadMime: 'text/plain', metadata: null },
      { ...RECORD, metadata: { a: 1 } },
    ];
    for (const variant of variants) expect(leafHashOf(variant)).not.toEqual(base);
  });

  it.each([
    ['uppercase digest', { digest: DIGEST.toUpperCase() }, 'digest'],
    ['short digest', { digest: DIGEST.slice(1) }, 'digest'],
    ['0x digest', { digest: `0x${DIGEST.slice(2)}` }, 'digest'],
    ['empty id', { id: '' }, 'id'],
    ['numeric id', { id: 7 }, 'id'],
    ['empty kind', { kind: '' }, 'kind'],
    ['fractional time', { occurredAt: 1.5 }, 'occurredAt'],
    ['negative time', { receivedAt: -1 }, 'receivedAt'],
    ['time as string', { occurredAt: '1730000000000' }, 'occurredAt'],
    ['unsafe integer time', { occurredAt: 2 ** 53 }, 'occurredAt'],
    ['empty payloadMime', { payloadMime: '' }, 'payloadMime'],
    ['array metadata', { metadata: [1] }, 'metadata'],
    ['Date in metadata', { metadata: { at: new Date(0) } }, 'metadata.at'],
    ['undefined in metadata', { metadata: { a: undefined } }, 'metadata.a'],
    ['NaN in metadata', { metadata: { a: Number.NaN } }, 'metadata.a'],
    ['Infinity in metadata', { metadata: { a: [Infinity] } }, 'metadata.a[0]'],
    ['function in metadata', { metadata: { f: () => 1 } }, 'metadata.f'],
    ['lone surrogate in metadata', { metadata: { s: '\ud800' } }, 'metadata.s'],
    ['bigint in metadata', { metadata: { n: 1n } }, 'metadata.n'],
    ['sparse array in metadata', { metadata: { a: [1, , 3] } }, 'metadata.a[1]'], // eslint-disable-line no-sparse-arrays
  ])('refuses %s', (_name, change, field) => {
    const record = { ...RECORD, ...change } as unknown as EvidenceRecord;
    expect(() => encodeLeafData(record)).toThrow(LeafEncodingError);
    expect(() => encodeLeafData(record)).toThrow(`cannot encode leaf: ${field} `);
  });

  it('is deterministic and injective over generated records', () => {
    const record = fc.record({
      id: fc.string({ minLength: 1 }),
      digest: fc.stringMatching(/^[0-9a-f]{64}$/),
      kind: fc.string({ minLength: 1 }),
      occurredAt: fc.nat(),
      receivedAt: fc.nat(),
      payloadMime: fc.option(fc.string({ minLength: 1 })),
      metadata: fc.option(fc.dictionary(fc.string(), fc.jsonValue())),
    });
    fc.assert(
      fc.property(record, record, (a, b) => {
        const data = encodeLeafData(a as EvidenceRecord);
        expect(hashLeaf(data)).toEqual(leafHashOf(a as EvidenceRecord));
        const sameLeaf = Buffer.from(data).equals(Buffer.from(encodeLeafData(b as EvidenceRecord)));
        const sameFields =
          a.id === b.id &&
          a.digest === b.digest &&
          a.kind === b.kind &&
          a.occurredAt === b.occurredAt &&
          a.receivedAt === b.receivedAt &&
          a.payloadMime === b.payloadMime &&
          canonicalJson(a.metadata) === canonicalJson(b.metadata);
        expect(sameLeaf).toBe(sameFields);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the leaf writer', () => {
  it('writes exactly the RFC 8785 text canonicalize gives for the leaf object, v1 and v2', () => {
    // Any well-formed string (the whole Unicode range, escapes included) in the free-text fields.
    const text = (minLength: number) => fc.string({ unit: 'binary', minLength });
    const v1 = fc.record({
      id: text(1),
      digest: fc.stringMatching(/^[0-9a-f]{64}$/),
      kind: text(1),
      occurredAt: fc.maxSafeNat(),
      receivedAt: fc.maxSafeNat(),
      payloadMime: fc.option(text(1)),
      metadata: fc.option(fc.dictionary(fc.string(), fc.jsonValue())),
    });
    const notBefore = fc.option(
      fc.record({
        chainId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        number: fc.maxSafeNat(),
        hash: fc.stringMatching(/^0x[0-9a-f]{64}$/),
        timestamp: fc.maxSafeNat(),
      }),
    );
    const v2 = fc.tuple(v1, notBefore, fc.boolean()).map(([r, block, clockSuspect]) => ({
      ...r,
      leafFormat: LEAF_FORMAT_V2,
      notBefore: block,
      clockSuspect,
    }));
    fc.assert(
      fc.property(fc.oneof(v1, v2), (record) => {
        const data = encodeLeafData(record as EvidenceRecord);
        const expected = canonicalJson(leafObjectOf(record as EvidenceRecord));
        expect(new TextDecoder().decode(data)).toBe(expected);
        expect(leafHashOf(record as EvidenceRecord)).toEqual(hashLeaf(new TextEncoder().encode(expected)));
      }),
      { numRuns: 1_000 },
    );
  });

  it.each([
    ['id', { id: 'a\udc00' }],
    ['kind', { kind: '\ud800' }],
    ['payloadMime', { payloadMime: 'x\ud800y' }],
  ])('refuses a lone surrogate in %s, as canonicalJson does', (field, change) => {
    const record: EvidenceRecord = { ...RECORD, ...change };
    expect(() => canonicalJson(leafObjectOf(record))).toThrow(`$.${field}: string holds a lone surrogate`);
    expect(() => leafHashOf(record)).toThrow(
      `cannot encode leaf: leaf.${field} string holds a lone surrogate`,
    );
  });
});
