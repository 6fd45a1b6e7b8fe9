import Ajv from 'ajv';
import { MemoryTree } from '@fieldproof/merkle';
import { generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import { describe, expect, it } from 'vitest';
import {
  FLEET_LEAF_KIND,
  RECEIPT_SCHEMA,
  RECEIPT_V2_SCHEMA,
  ReceiptFormatError,
  buildReceipt,
  createReceiptChecker,
  deviceNoteHash,
  fleetLeafMismatch,
  fleetLeafRecordOf,
  leafHashOf,
  validateReceiptV2,
  verifyReceiptV2Offline,
  type ReceiptV2,
} from '../src/index.js';
import { SAMPLE_ANCHOR, createLog, sha256Hex } from './fixture.js';

/**
 * The fleet leaf record (docs/FORMATS.md §9.5) and fleet branches without a chain: a real device log,
 * a real fleet log of fleetLeafRecordOf(device notes), real Ed25519 keys; the fleet anchor is a claim
 * (no proof), so the fleet links are checked and anchor-tx stays unchecked. The proven case, on a real
 * node, is test/receipt-fleet.test.ts.
 */
const device = createLog(5);
const fleetKey = generateDeviceKey('collector.example/fleet');
const other = createLog(2, generateDeviceKey('fieldproof.example/unit-7'));
const fleetRecords = [other.note, device.note].map((signedNote, i) =>
  fleetLeafRecordOf({ id: `f-${i}`, signedNote, receivedAt: 1_730_000_900_000 + i }),
);
const fleetTree = new MemoryTree();
fleetTree.append(fleetRecords.map((r) => leafHashOf(r)));
const fleetNote = signCheckpoint(
  { origin: 'collector.example/fleet', treeSize: 2, root: fleetTree.root() },
  fleetKey,
);
const fleetReceipt = buildReceipt({
  evidence: fleetRecords[1]!,
  leafIndex: 1,
  inclusionProof: fleetTree.inclusionProof(1),
  checkpointNote: fleetNote,
  devicePublicKey: fleetKey.verifierKey,
  anchors: [SAMPLE_ANCHOR],
});

function unitReceipt(): ReceiptV2 {
  const { content: _c, ...record } = device.records[3]!;
  return buildReceipt({
    evidence: record,
    leafIndex: 3,
    inclusionProof: device.tree.inclusionProof(3),
    checkpointNote: device.note,
    devicePublicKey: device.key.verifierKey,
    fleetPaths: [{ via: 'collector-1', fleetReceipt }],
  });
}

describe('the fleet leaf record', () => {
  it('is the v1 record of the device checkpoint: kind, note hash, origin, size, root', () => {
    const record = fleetLeafRecordOf({ id: 'x', signedNote: device.note, receivedAt: 42 });
    expect(record).toEqual({
      id: 'x',
      digest: sha256Hex(device.note),
      kind: FLEET_LEAF_KIND,
      occurredAt: 42,
      receivedAt: 42,
      payloadMime: null,
      metadata: {
        origin: 'fieldproof.example/unit-7',
        treeSize: 5,
        root: Buffer.from(device.tree.root()).toString('hex'),
      },
    });
    expect(deviceNoteHash(device.note)).toBe(sha256Hex(Buffer.from(device.note, 'utf8')));
    expect(fleetLeafMismatch(record, device.note)).toBeUndefined();
  });

  it('names what differs: kind, digest, metadata, an unparsable note', () => {
    const record = fleetLeafRecordOf({ id: 'x', signedNote: device.note, receivedAt: 42 });
    expect(fleetLeafMismatch({ ...record, kind: 'detection' }, device.note)).toMatch(/kind is "detection"/);
    expect(fleetLeafMismatch(record, other.note)).toMatch(/names device note [0-9a-f]{64}, this note hashes/);
    expect(
      fleetLeafMismatch({ ...record, metadata: { ...record.metadata, treeSize: 6 } }, device.note),
    ).toMatch(/metadata is .*"treeSize":6.*the device note says/);
    expect(fleetLeafMismatch({ ...record, metadata: null }, device.note)).toMatch(/metadata is null/);
    expect(fleetLeafMismatch(record, 'not a note')).toMatch(/^the device note does not parse/);
  });
});

describe('fleet branches without a chain', () => {
  it('buildReceipt turns a fleet path into one branch per anchor; the fleet links verify offline', async () => {
    const receipt = unitReceipt();
    expect(receipt.anchors).toHaveLength(1);
    expect(receipt.anchors[0]!.via).toBe('collector-1');
    expect(receipt.anchors[0]!.steps.map((s) => s.type)).toEqual([
      'fleet-leaf',
      'fleet-inclusion',
      'fleet-checkpoint',
      'anchor-tx',
      'block',
    ]);
    const v = verifyReceiptV2Offline(receipt);
    expect(v.links.map((l) => `${l.status} ${l.link}`).slice(-4)).toEqual([
      `ok fleet-leaf:${SAMPLE_ANCHOR.chainId}:${SAMPLE_ANCHOR.txHash}`,
      `ok fleet-inclusion:${SAMPLE_ANCHOR.chainId}:${SAMPLE_ANCHOR.txHash}`,
      `ok fleet-checkpoint:${SAMPLE_ANCHOR.chainId}:${SAMPLE_ANCHOR.txHash}`,
      `unchecked anchor-tx:${SAMPLE_ANCHOR.chainId}:${SAMPLE_ANCHOR.txHash}`,
    ]);
    expect(v.ok).toBe(true);

    // The checker (CLI, bundles) passes --fleet-key through.
    const pinned = await createReceiptChecker({ fleetKeys: [fleetKey.verifierKey] }).check(receipt);
    expect(pinned.links.find((l) => l.link.startsWith('fleet-checkpoint:'))?.detail).toMatch(
      /a pinned fleet key/,
    );
    const other = await createReceiptChecker({
      fleetKeys: [generateDeviceKey('collector.example/fleet').verifierKey],
    }).check(receipt);
    expect(other.ok).toBe(false);
    expect(other.links.find((l) => l.link.startsWith('fleet-checkpoint:'))?.status).toBe('failed');
  });

  it('refuses a fleet receipt that does not start with leaf, inclusion, checkpoint', () => {
    const broken = { ...fleetReceipt, steps: fleetReceipt.steps.slice(1) } as ReceiptV2;
    const { content: _c, ...record } = device.records[3]!;
    expect(() =>
      buildReceipt({
        evidence: record,
        leafIndex: 3,
        inclusionProof: device.tree.inclusionProof(3),
        checkpointNote: device.note,
        devicePublicKey: device.key.verifierKey,
        fleetPaths: [{ via: 'c', fleetReceipt: broken }],
      }),
    ).toThrow(ReceiptFormatError);
  });
});

describe('the JSON Schema and the hand validator agree on fleet steps', () => {
  const ajv = new Ajv({ allErrors: true });
  const schema = ajv.compile(RECEIPT_SCHEMA);
  const schemaV2 = ajv.compile(RECEIPT_V2_SCHEMA);
  const base = unitReceipt();
  const branch = base.anchors[0]!;
  const [leaf, inclusion, checkpoint, ...anchorSteps] = branch.steps as unknown as Record<string, unknown>[];
  const withSteps = (...steps: unknown[]) => ({ ...base, anchors: [{ ...branch, steps }] });
  const consistency = { type: 'consistency', note: device.note, proof: [] };

  const valid: unknown[] = [
    base,
    withSteps(consistency, leaf, inclusion, checkpoint, ...anchorSteps),
    withSteps(consistency, ...anchorSteps),
    { ...base, anchors: [{ chain: 'x', state: 'final', steps: anchorSteps }] },
  ];
  const invalid: unknown[] = [
    withSteps({ ...leaf, evidence: undefined }, inclusion, checkpoint, ...anchorSteps),
    withSteps({ ...leaf, evidence: { ...(leaf!.evidence as object), extra: 1 } }, inclusion, checkpoint),
    withSteps({ ...leaf, leafHash: 'AB' }, inclusion, checkpoint, ...anchorSteps),
    withSteps(leaf, { ...inclusion, proof: ['0x12'] }, checkpoint, ...anchorSteps),
    withSteps(leaf, { ...inclusion, leafIndex: -1 }, checkpoint, ...anchorSteps),
    withSteps(leaf, inclusion, { ...checkpoint, extra: true }, ...anchorSteps),
    withSteps(leaf, inclusion, { ...checkpoint, publicKey: '' }, ...anchorSteps),
    withSteps({ ...consistency, proof: ['A'.repeat(64)] }, ...anchorSteps),
    withSteps({ type: 'consistency', proof: [] }, ...anchorSteps),
    { ...base, anchors: [{ ...branch, via: '' }] },
    { ...base, anchors: [{ ...branch, via: 7 }] },
  ];

  it.each(valid.map((r, i) => [i, r]))('valid #%i passes both', (_i, receipt) => {
    expect(schema(receipt), JSON.stringify(schema.errors)).toBe(true);
    expect(() => validateReceiptV2(receipt)).not.toThrow();
  });

  it.each(invalid.map((r, i) => [i, r]))('invalid #%i fails both', (_i, receipt) => {
    expect(schemaV2(receipt)).toBe(false);
    expect(() => validateReceiptV2(receipt)).toThrow(ReceiptFormatError);
  });

  it('names the path of a bad fleet record field', () => {
    const bad = withSteps({ ...leaf, evidence: { ...(leaf!.evidence as object), digest: 'x' } });
    expect(() => validateReceiptV2(bad)).toThrow(/receipt\.anchors\[0\]\.steps\[0\]\.evidence\.digest/);
  });
});
