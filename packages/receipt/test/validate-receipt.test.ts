import { describe, expect, it } from 'vitest';
import {
  RECEIPT_FORMAT,
  ReceiptFormatError,
  buildReceipt,
  parseReceipt,
  validateReceipt,
  type Receipt,
} from '../src/index.js';
import { SAMPLE_ANCHOR, createLog } from './fixture.js';

const log = createLog(6);
const receipt = log.receiptFor(3, [
  SAMPLE_ANCHOR,
  { ...SAMPLE_ANCHOR, from: `0x${'aB'.repeat(20)}`, to: `0x${'00'.repeat(20)}` },
]);

/** `receipt` with `value` at `path` (`undefined` deletes the field). */
function withValue(path: string, value: unknown): unknown {
  const copy = structuredClone(receipt) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  const last = keys.pop()!;
  let target: Record<string, unknown> = copy;
  for (const key of keys) target = target[key] as Record<string, unknown>;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

describe('validateReceipt', () => {
  it('accepts what buildReceipt makes', () => {
    expect(validateReceipt(receipt)).toBe(receipt);
    expect(validateReceipt(JSON.parse(JSON.stringify(receipt)))).toEqual(receipt);
  });

  const hash = 'ab'.repeat(32);
  it.each([
    [
      'format',
      'fieldproof-receipt/v2',
      'receipt.format: expected "fieldproof-receipt/v1", got "fieldproof-receipt/v2"',
    ],
    ['format', undefined, 'receipt.format: is missing'],
    ['evidence', [], 'receipt.evidence: expected an object, got []'],
    ['evidence.id', '', 'receipt.evidence.id: expected a non-empty string, got ""'],
    ['evidence.digest', hash.toUpperCase(), 'receipt.evidence.digest: expected 64 lowercase hex digits'],
    ['evidence.digest', `0x${hash}`, 'receipt.evidence.digest: expected 64 lowercase hex digits'],
    ['evidence.kind', 3, 'receipt.evidence.kind: expected a non-empty string, got 3'],
    ['evidence.occurredAt', '1730000000000', 'receipt.evidence.occurredAt: expected a non-negative integer'],
    ['evidence.receivedAt', 1.5, 'receipt.evidence.receivedAt: expected a non-negative integer, got 1.5'],
    ['evidence.payloadMime', undefined, 'receipt.evidence.payloadMime: is missing'],
    ['evidence.payloadMime', 7, 'receipt.evidence.payloadMime: expected a string or null, got 7'],
    ['evidence.metadata', undefined, 'receipt.evidence.metadata: is missing'],
    ['evidence.metadata', [1], 'receipt.evidence.metadata: expected an object or null'],
    ['evidence.sha256', hash, 'receipt.evidence.sha256: is not a field of this format'],
    ['leaf.leafIndex', -1, 'receipt.leaf.leafIndex: expected a non-negative integer, got -1'],
    ['leaf.leafIndex', 2 ** 53, 'receipt.leaf.leafIndex: expected a non-negative integer'],
    ['leaf.leafHash', hash.slice(2), 'receipt.leaf.leafHash: expected 64 lowercase hex digits'],
    ['inclusion.treeSize', null, 'receipt.inclusion.treeSize: expected a non-negative integer, got null'],
    ['inclusion.proof', hash, 'receipt.inclusion.proof: expected an array of hashes'],
    [
      'inclusion.proof',
      [hash, 'xyz'],
      'receipt.inclusion.proof[1]: expected 64 lowercase hex digits, got "xyz"',
    ],
    ['inclusion.proof', Array(65).fill(hash), 'receipt.inclusion.proof: more than 64 hashes'],
    ['checkpoint.note', '', 'receipt.checkpoint.note: expected a non-empty string'],
    ['checkpoint.note', 'x'.repeat(2 ** 20 + 1), 'receipt.checkpoint.note: longer than 1 MiB'],
    [
      'checkpoint.root',
      Buffer.alloc(32).toString('base64'),
      'receipt.checkpoint.root: expected 64 lowercase hex digits',
    ],
    ['device.publicKey', undefined, 'receipt.device.publicKey: is missing'],
    ['anchors', {}, 'receipt.anchors: expected an array'],
    ['anchors', Array(65).fill(SAMPLE_ANCHOR), 'receipt.anchors: more than 64 anchors'],
    ['anchors', [{ ...SAMPLE_ANCHOR, chain: '' }], 'receipt.anchors[0].chain: expected a non-empty string'],
    [
      'anchors',
      [{ ...SAMPLE_ANCHOR, chainId: '0x1' }],
      'receipt.anchors[0].chainId: expected a non-negative integer',
    ],
    [
      'anchors',
      [{ ...SAMPLE_ANCHOR, txHash: hash }],
      'receipt.anchors[0].txHash: expected 0x and 64 lowercase hex',
    ],
    [
      'anchors',
      [{ ...SAMPLE_ANCHOR, blockHash: SAMPLE_ANCHOR.blockHash!.toUpperCase().replace('0X', '0x') }],
      'receipt.anchors[0].blockHash: expected 0x and 64 lowercase hex',
    ],
    [
      'anchors',
      [{ ...SAMPLE_ANCHOR, blockNumber: null }],
      'receipt.anchors[0]: blockNumber, blockHash and blockTimestamp must be all set or all null',
    ],
    [
      'anchors',
      [{ ...SAMPLE_ANCHOR, state: 'Final' }],
      'receipt.anchors[0].state: expected a lowercase state word',
    ],
    ['anchors', [{ ...SAMPLE_ANCHOR, from: '0x12' }], 'receipt.anchors[0].from: expected an EVM address'],
    ['anchors', [{ ...SAMPLE_ANCHOR, to: null }], 'receipt.anchors[0].to: expected an EVM address'],
    ['anchors', [{ ...SAMPLE_ANCHOR, nonce: 3 }], 'receipt.anchors[0].nonce: is not a field of this format'],
    ['extra', true, 'receipt.extra: is not a field of this format'],
  ])('refuses %s = %j', (path, value, message) => {
    const bad = withValue(path, value);
    expect(() => validateReceipt(bad)).toThrow(ReceiptFormatError);
    expect(() => validateReceipt(bad)).toThrow(message);
  });

  it('refuses what is not a receipt at all', () => {
    expect(() => validateReceipt(undefined)).toThrow('receipt: expected an object, got nothing');
    expect(() => validateReceipt('{}')).toThrow('receipt: expected an object, got "{}"');
    expect(() => parseReceipt('{"format":')).toThrow(/^receipt: not JSON/);
  });

  it('carries the path and the reason as data', () => {
    try {
      validateReceipt(withValue('leaf.leafIndex', -1));
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ path: 'receipt.leaf.leafIndex', reason: expect.any(String) as unknown });
    }
  });
});

describe('buildReceipt', () => {
  it('fills the checkpoint fields from the note and writes hashes as lowercase hex', () => {
    expect(receipt.format).toBe('fieldproof-receipt/v1');
    expect(receipt.checkpoint.treeSize).toBe(6);
    expect(receipt.inclusion.treeSize).toBe(6);
    expect(receipt.checkpoint.root).toBe(Buffer.from(log.tree.root()).toString('hex'));
    expect(receipt.inclusion.proof).toEqual(
      log.tree.inclusionProof(3).map((h) => Buffer.from(h).toString('hex')),
    );
    expect(receipt.device.publicKey).toBe(log.key.verifierKey);
    expect(receipt.evidence.metadata).toEqual(log.records[3]!.metadata);
  });

  it('writes absent optional evidence fields as null and drops undefined anchor fields', () => {
    const { payloadMime: _p, metadata: _m, content: _c, ...bare } = log.records[0]!;
    const built: Receipt = buildReceipt({
      evidence: bare,
      leafIndex: 0,
      inclusionProof: log.tree.inclusionProof(0),
      checkpointNote: log.note,
      devicePublicKey: log.key.verifierKey,
      anchors: [{ ...SAMPLE_ANCHOR, from: undefined }],
      format: RECEIPT_FORMAT,
    });
    expect(built.evidence.payloadMime).toBeNull();
    expect(built.evidence.metadata).toBeNull();
    expect('from' in built.anchors[0]!).toBe(false);
  });

  it('refuses an unparsable checkpoint note', () => {
    expect(() =>
      buildReceipt({
        evidence: log.records[0]!,
        leafIndex: 0,
        inclusionProof: [],
        checkpointNote: 'not a note',
        devicePublicKey: log.key.verifierKey,
      }),
    ).toThrow(/malformed note/);
  });
});
