import { MemoryTree } from '@fieldproof/merkle';
import { generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import { describe, expect, it } from 'vitest';
import {
  LeafEncodingError,
  buildReceipt,
  encodeLeafData,
  evidenceRecordOf,
  leafHashOf,
  leafObjectOf,
  parseReceipt,
  recordTimeClaimsOf,
  verifyReceiptOffline,
  type EvidenceRecord,
  type EvidenceRecordRow,
} from '../src/index.js';
import { V1_LEAF_COLUMNS } from '../../../test/support/leaf-columns.js';
import { ORIGIN, evidence } from './fixture.js';

const BLOCK = { chainId: 31337, number: 12, hash: `0x${'c3'.repeat(32)}`, timestamp: 1_730_000_000_000 };
const { content: _content, ...V1 } = evidence(3);
const V2: EvidenceRecord = { ...V1, leafFormat: 'fieldproof-leaf/v2', notBefore: BLOCK, clockSuspect: false };

const row = (over: Partial<EvidenceRecordRow> = {}): EvidenceRecordRow => ({
  id: V1.id,
  digest: V1.digest,
  kind: V1.kind,
  occurred_at: V1.occurredAt,
  received_at: V1.receivedAt,
  payload_mime: V1.payloadMime ?? null,
  metadata: JSON.stringify(V1.metadata),
  ...V1_LEAF_COLUMNS,
  ...over,
});
const v2Row = (over: Partial<EvidenceRecordRow> = {}) =>
  row({
    leaf_version: 2,
    not_before_chain_id: BLOCK.chainId,
    not_before_number: BLOCK.number,
    not_before_hash: BLOCK.hash,
    not_before_timestamp: BLOCK.timestamp,
    clock_suspect: 0,
    ...over,
  });

describe('fieldproof-leaf/v2', () => {
  it('commits to the block and the flag: each changes the hash, and v1 of the same record differs', () => {
    const hash = Buffer.from(leafHashOf(V2)).toString('hex');
    expect(Buffer.from(leafHashOf(V1)).toString('hex')).not.toBe(hash);
    const variants: EvidenceRecord[] = [
      { ...V2, clockSuspect: true },
      { ...V2, notBefore: null },
      { ...V2, notBefore: { ...BLOCK, number: 13 } },
      { ...V2, notBefore: { ...BLOCK, chainId: 1 } },
      { ...V2, notBefore: { ...BLOCK, timestamp: BLOCK.timestamp + 1 } },
      { ...V2, notBefore: { ...BLOCK, hash: `0x${'c4'.repeat(32)}` } },
    ];
    const hashes = new Set(variants.map((r) => Buffer.from(leafHashOf(r)).toString('hex')));
    expect(hashes.size).toBe(variants.length);
    expect(hashes.has(hash)).toBe(false);
    expect(new TextDecoder().decode(encodeLeafData({ ...V2, notBefore: null }))).toContain(
      '"notBefore":null',
    );
  });

  it.each<[string, EvidenceRecord]>([
    ['a v2 record without notBefore', { ...V1, leafFormat: 'fieldproof-leaf/v2', clockSuspect: false }],
    ['a v2 record without clockSuspect', { ...V1, leafFormat: 'fieldproof-leaf/v2', notBefore: null }],
    ['a v1 record with a block', { ...V1, notBefore: BLOCK }],
    ['a v1 record with a flag', { ...V1, clockSuspect: true }],
    ['an unknown format', { ...V2, leafFormat: 'fieldproof-leaf/v3' as 'fieldproof-leaf/v2' }],
    ['chain id 0', { ...V2, notBefore: { ...BLOCK, chainId: 0 } }],
    ['an uppercase hash', { ...V2, notBefore: { ...BLOCK, hash: BLOCK.hash.toUpperCase() } }],
    ['a hash without 0x', { ...V2, notBefore: { ...BLOCK, hash: 'c3'.repeat(32) } }],
    ['a fractional timestamp', { ...V2, notBefore: { ...BLOCK, timestamp: 1.5 } }],
    ['an extra block field', { ...V2, notBefore: { ...BLOCK, parentHash: BLOCK.hash } as typeof BLOCK }],
  ])('refuses %s', (_name, record) => {
    expect(() => leafHashOf(record)).toThrow(LeafEncodingError);
  });
});

describe('evidenceRecordOf', () => {
  it('maps a v1 row to exactly the v1 record (no v2 keys), a v2 row to the v2 record', () => {
    expect(evidenceRecordOf(row())).toEqual(V1);
    expect(Object.keys(evidenceRecordOf(row()))).not.toContain('leafFormat');
    expect(evidenceRecordOf(v2Row())).toEqual(V2);
    expect(evidenceRecordOf(v2Row({ clock_suspect: 1 })).clockSuspect).toBe(true);
    expect(
      evidenceRecordOf(
        v2Row({
          not_before_chain_id: null,
          not_before_number: null,
          not_before_hash: null,
          not_before_timestamp: null,
        }),
      ).notBefore,
    ).toBeNull();
  });

  it.each<[string, EvidenceRecordRow]>([
    ['half a block', v2Row({ not_before_hash: null })],
    ['a v1 row with a flag', row({ clock_suspect: 0 })],
    ['a v2 row without a flag', v2Row({ clock_suspect: null })],
    ['version 3', v2Row({ leaf_version: 3 })],
  ])('refuses %s', (_name, r) => {
    expect(() => evidenceRecordOf(r)).toThrow(LeafEncodingError);
  });
});

describe('recordTimeClaimsOf', () => {
  const v2Claims = { leafFormat: 'fieldproof-leaf/v2', notBefore: BLOCK, clockSuspect: false };
  const v1Claims = { leafFormat: 'fieldproof-leaf/v1', notBefore: null, clockSuspect: null };
  it('reads a record, a leaf object and leaf data bytes of either version', () => {
    expect(recordTimeClaimsOf(V2)).toEqual(v2Claims);
    expect(recordTimeClaimsOf(leafObjectOf(V2))).toEqual(v2Claims);
    expect(recordTimeClaimsOf(encodeLeafData(V2))).toEqual(v2Claims);
    expect(recordTimeClaimsOf(V1)).toEqual(v1Claims);
    expect(recordTimeClaimsOf(leafObjectOf(V1))).toEqual(v1Claims);
    expect(recordTimeClaimsOf(encodeLeafData(V1))).toEqual(v1Claims);
    expect(recordTimeClaimsOf({ ...V2, notBefore: null, clockSuspect: true })).toEqual({
      leafFormat: 'fieldproof-leaf/v2',
      notBefore: null,
      clockSuspect: true,
    });
  });

  it('refuses a malformed leaf', () => {
    expect(() => recordTimeClaimsOf(new TextEncoder().encode('{"format":"fieldproof-leaf/v2"}'))).toThrow(
      LeafEncodingError,
    );
    expect(() => recordTimeClaimsOf(new Uint8Array([0xff]))).toThrow(LeafEncodingError);
  });
});

describe('a receipt of a v2 record', () => {
  const key = generateDeviceKey(ORIGIN);
  const receiptOf = (record: EvidenceRecord) => {
    const tree = new MemoryTree();
    tree.append([leafHashOf(record)]);
    return buildReceipt({
      format: 'fieldproof-receipt/v1', // the v1 receipt with a v2 leaf (bracket-e2e covers v2 receipts)
      evidence: record,
      leafIndex: 0,
      inclusionProof: tree.inclusionProof(0),
      checkpointNote: signCheckpoint({ origin: ORIGIN, treeSize: 1, root: tree.root() }, key),
      devicePublicKey: key.verifierKey,
    });
  };

  it('carries the three v2 fields, verifies, and a v1 receipt is unchanged in shape', () => {
    const receipt = receiptOf(V2);
    expect(receipt.evidence).toMatchObject({
      leafFormat: 'fieldproof-leaf/v2',
      notBefore: BLOCK,
      clockSuspect: false,
    });
    expect(verifyReceiptOffline(parseReceipt(JSON.stringify(receipt))).ok).toBe(true);
    expect(Object.keys(receiptOf(V1).evidence).sort()).toEqual([
      'digest',
      'id',
      'kind',
      'metadata',
      'occurredAt',
      'payloadMime',
      'receivedAt',
    ]);
  });

  it('fails the leaf link when the block or the flag is altered, and refuses half the v2 fields', () => {
    const receipt = receiptOf(V2);
    for (const evidenceChange of [
      { notBefore: { ...BLOCK, number: 11 } },
      { notBefore: null },
      { clockSuspect: true },
    ]) {
      const altered = { ...receipt, evidence: { ...receipt.evidence, ...evidenceChange } };
      const leaf = verifyReceiptOffline(parseReceipt(JSON.stringify(altered))).links.find(
        (l) => l.link === 'leaf',
      );
      expect(leaf?.status).toBe('failed');
    }
    const { clockSuspect: _c, ...half } = receipt.evidence;
    expect(() => parseReceipt(JSON.stringify({ ...receipt, evidence: half }))).toThrow(
      /all present or all absent/,
    );
  });
});
