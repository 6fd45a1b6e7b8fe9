import Ajv from 'ajv';
import { createCosigner, generateDeviceKey } from '@fieldproof/note';
import { describe, expect, it } from 'vitest';
import {
  RECEIPT_SCHEMA,
  RECEIPT_V2_SCHEMA,
  ReceiptFormatError,
  buildReceipt,
  createReceiptChecker,
  validateReceipt,
  validateReceiptV2,
  verifyReceiptV2Offline,
  type ReceiptParts,
  type ReceiptV2,
} from '../src/index.js';
import { ORIGIN, SAMPLE_ANCHOR, createLog } from './fixture.js';

const log = createLog(5);
const witnessKey = generateDeviceKey('witness.example/w1');
const witness = createCosigner(witnessKey);
const otherWitness = createCosigner(generateDeviceKey('witness.example/w2'));
const noteText = log.note.slice(0, log.note.indexOf('\n\n') + 1);

function v2(i: number, extra: Omit<Partial<ReceiptParts>, 'format'> = {}): ReceiptV2 {
  const { content: _c, ...record } = log.records[i]!;
  return buildReceipt({
    evidence: record,
    leafIndex: i,
    inclusionProof: log.tree.inclusionProof(i),
    checkpointNote: log.note,
    devicePublicKey: log.key.verifierKey,
    ...extra,
  });
}

describe('fieldproof-receipt/v2 offline', () => {
  it('builds a step chain that verifies link by link; a pending anchor stays unchecked', () => {
    const receipt = v2(3, {
      anchors: [SAMPLE_ANCHOR],
      cosignatures: [{ witnessKey: witness.verifierKey, line: witness.cosign(noteText, 1_730_000_200).line }],
    });
    expect(receipt.steps.map((s) => s.type)).toEqual(['leaf', 'inclusion', 'checkpoint', 'cosignature']);
    expect(receipt.anchors[0]!.steps.map((s) => s.type)).toEqual(['anchor-tx', 'block']);
    const v = verifyReceiptV2Offline(receipt, {
      content: log.records[3]!.content,
      witnessKeys: [witness.verifierKey],
    });
    expect(v.links.map((l) => `${l.status} ${l.link.split(':')[0]}`)).toEqual([
      'ok format',
      'ok content',
      'ok leaf',
      'ok inclusion',
      'ok checkpoint',
      'ok signature',
      'ok cosignature',
      'ok witness',
      'unchecked anchor-tx',
    ]);
    expect(v.ok).toBe(true);
    expect(v.bracket).toBeUndefined(); // no proven anchor: no "no later than"
  });

  it('--witness-key: a missing or wrong cosignature fails the witness link', () => {
    const bare = v2(1);
    const missing = verifyReceiptV2Offline(bare, { witnessKeys: [witness.verifierKey] });
    expect(missing.ok).toBe(false);
    expect(missing.links.at(-1)).toMatchObject({
      status: 'failed',
      detail: /no cosignature by this witness/,
    });

    // A cosignature of another checkpoint text (a forged timestamp) under the witness's name.
    const forged = witness.cosign(noteText, 1).line.replace(/ (\S+)\n$/, (_m, b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[11]! ^= 1; // the timestamp: the signature no longer covers it
      return ` ${bytes.toString('base64')}\n`;
    });
    const wrong = verifyReceiptV2Offline(
      v2(1, { cosignatures: [{ witnessKey: witness.verifierKey, line: forged }] }),
      {
        witnessKeys: [witness.verifierKey],
      },
    );
    expect(wrong.ok).toBe(false);
    expect(wrong.links.filter((l) => l.status === 'failed').map((l) => l.link.split(':')[0])).toEqual([
      'cosignature',
      'witness',
    ]);

    const other = verifyReceiptV2Offline(
      v2(1, {
        cosignatures: [{ witnessKey: otherWitness.verifierKey, line: otherWitness.cosign(noteText, 5).line }],
      }),
      { witnessKeys: [witness.verifierKey] },
    );
    expect(other.links.find((l) => l.link.startsWith('cosignature:'))?.status).toBe('ok');
    expect(other.links.find((l) => l.link.startsWith('witness:'))?.status).toBe('failed');
  });

  it('a step type this verifier does not know fails its own link, not the format', () => {
    const receipt = v2(0);
    // (fleet-inclusion, the type this test used before §9.5 made it known, is now checked field by field.)
    const later = { ...receipt, steps: [...receipt.steps, { type: 'zk-inclusion', leafIndex: 3 }] };
    const v = verifyReceiptV2Offline(later);
    expect(v.links[0]).toMatchObject({ link: 'format', status: 'ok' });
    expect(v.links.at(-1)).toMatchObject({ link: 'step:zk-inclusion', status: 'failed' });
  });

  it('tampering with evidence, proof or note fails the right link', () => {
    const receipt = v2(2);
    const evidence = { ...receipt, evidence: { ...receipt.evidence, kind: 'other' } };
    expect(failedLinks(evidence)).toEqual(['leaf', 'inclusion', 'checkpoint']);
    const inclusion = receipt.steps[1] as unknown as { proof: string[] };
    const proof = {
      ...receipt,
      steps: [
        receipt.steps[0],
        {
          ...inclusion,
          proof: inclusion.proof.map((h, i) =>
            i === 0 ? h.replace(/^./, (c) => (c === '0' ? '1' : '0')) : h,
          ),
        },
        receipt.steps[2],
      ],
    };
    expect(failedLinks(proof)).toEqual(['checkpoint']);
  });

  it('the v1 fixtures keep verifying through the same checker', async () => {
    const checker = createReceiptChecker();
    const v = await checker.check(log.receiptFor(4, [SAMPLE_ANCHOR]));
    expect(v.ok).toBe(true);
    expect(v.links[0]).toMatchObject({ link: 'format', detail: 'fieldproof-receipt/v1' });
  });
});

function failedLinks(value: unknown): string[] {
  return verifyReceiptV2Offline(value)
    .links.filter((l) => l.status === 'failed')
    .map((l) => l.link);
}

describe('the JSON Schema and the hand validators agree', () => {
  const ajv = new Ajv({ allErrors: true });
  const schema = ajv.compile(RECEIPT_SCHEMA);
  const schemaV2 = ajv.compile(RECEIPT_V2_SCHEMA);

  const valid: unknown[] = [
    v2(0),
    v2(3, {
      anchors: [SAMPLE_ANCHOR],
      cosignatures: [{ witnessKey: witness.verifierKey, line: witness.cosign(noteText, 9).line }],
    }),
    log.receiptFor(1, [SAMPLE_ANCHOR]),
    log.receiptFor(4),
  ];
  const base = v2(3, { anchors: [SAMPLE_ANCHOR] });
  const invalid: unknown[] = [
    { ...base, format: 'fieldproof-receipt/v3' },
    { ...base, extra: 1 },
    { ...base, steps: base.steps.slice(0, 2) },
    { ...base, steps: [{ ...base.steps[0], leafHash: 'AB' }, ...base.steps.slice(1)] },
    { ...base, steps: [...base.steps, { type: 'checkpoint', note: 'x' }] },
    { ...base, steps: [...base.steps, { type: 'Bad Type' }] },
    { ...base, anchors: [{ ...base.anchors[0], steps: [] }] },
    {
      ...base,
      anchors: [{ ...base.anchors[0], steps: [{ type: 'anchor-tx', chainId: 1, txHash: '0x12' }] }],
    },
    { ...base, anchors: [{ ...base.anchors[0], steps: [{ type: 'header', rawHeader: '0xABCD' }] }] },
    { ...base, evidence: { ...base.evidence, occurredAt: -1 } },
    { ...base, anchors: [{ chain: 'x', state: 'Final', steps: base.anchors[0]!.steps }] },
  ];

  it.each(valid.map((r, i) => [i, r]))('valid #%i passes both', (_i, receipt) => {
    expect(schema(receipt), JSON.stringify(schema.errors)).toBe(true);
    expect(() =>
      ((receipt as { format: string }).format.endsWith('v2') ? validateReceiptV2 : validateReceipt)(receipt),
    ).not.toThrow();
  });

  it.each(invalid.map((r, i) => [i, r]))('invalid #%i fails both', (_i, receipt) => {
    expect(schemaV2(receipt)).toBe(false);
    expect(() => validateReceiptV2(receipt)).toThrow(ReceiptFormatError);
  });

  it('names the device origin it was built for', () => {
    expect((base.steps[2] as { note: string }).note.startsWith(ORIGIN)).toBe(true);
  });
});
