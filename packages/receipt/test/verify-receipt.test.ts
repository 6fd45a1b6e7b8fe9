import { generateDeviceKey, parseSignedNote, signCheckpoint, signNote } from '@fieldproof/note';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  parseReceipt,
  verifyReceipt,
  verifyReceiptOffline,
  type Receipt,
  type Verification,
} from '../src/index.js';
import { ORIGIN, SAMPLE_ANCHOR, createLog, evidence, sha256Hex } from './fixture.js';
import { OFFLINE_LINKS_OK } from '../../../test/support/receipt-links.js';

const log = createLog(13);
const LEAF = 3; // the record with metadata
const receipt = log.receiptFor(LEAF, [SAMPLE_ANCHOR]);
const content = log.records[LEAF]!.content;
const ANCHOR_LINK = `anchor:${SAMPLE_ANCHOR.chainId}:${SAMPLE_ANCHOR.txHash}`;

const failedLinks = (v: Verification) => v.links.filter((l) => l.status === 'failed').map((l) => l.link);
const verdict = (v: Verification, link: string) => v.links.find((l) => l.link === link);
const noteText = (note: string) => parseSignedNote(note).text;
const signatureLines = (note: string) => note.slice(note.lastIndexOf('\n\n') + 1);

describe('verifyReceipt on an honest receipt', () => {
  it('holds on every link; anchors stay unchecked offline', async () => {
    const result = await verifyReceipt(receipt, { content, expectedPublicKey: log.key.verifierKey });
    expect(result.links.map((l) => [l.link, l.status])).toEqual([
      ...OFFLINE_LINKS_OK,
      [ANCHOR_LINK, 'unchecked'],
    ]);
    expect(result.ok).toBe(true);
    expect(verdict(result, ANCHOR_LINK)?.detail).toMatch(
      /no RPC URL given for chain sepolia \(chainId 11155111\)/,
    );
  });

  it('says which links it did not check, and that the key was not pinned', () => {
    const result = verifyReceiptOffline(receipt);
    expect(result.ok).toBe(true);
    expect(verdict(result, 'content')?.status).toBe('unchecked');
    expect(verdict(result, 'signature')?.detail).toMatch(/the key the receipt names/);
    expect(verdict(result, ANCHOR_LINK)?.status).toBe('unchecked');
  });

  it('verifies every leaf of every tree size from 1 to 20', () => {
    for (let size = 1; size <= 20; size++) {
      const small = createLog(size, log.key);
      for (let i = 0; i < size; i++) {
        const result = verifyReceiptOffline(small.receiptFor(i), { content: small.records[i]!.content });
        expect(failedLinks(result), `leaf ${i} of ${size}`).toEqual([]);
        expect(verdict(result, 'content')?.status).toBe('ok');
      }
    }
  });

  it('survives a JSON round trip', () => {
    const text = JSON.stringify(receipt, null, 2);
    expect(verifyReceiptOffline(parseReceipt(text), { content }).ok).toBe(true);
    expect(verifyReceiptOffline(JSON.parse(text)).ok).toBe(true);
  });

  it('accepts a JSON payload in any layout whose RFC 8785 form has the digest', () => {
    const payload = { readings: [1, 2.5], band: 'L1' };
    const record = {
      ...evidence(0),
      digest: sha256Hex(canonicalJson(payload)),
      payloadMime: 'application/json',
    };
    const json = createLog([record], log.key);
    const pretty = new TextEncoder().encode(JSON.stringify(payload, null, 2));
    const result = verifyReceiptOffline(json.receiptFor(0), { content: pretty });
    expect(verdict(result, 'content')?.status).toBe('ok');
    expect(verdict(result, 'content')?.detail).toMatch(/canonical JSON/);
    const other = new TextEncoder().encode(JSON.stringify({ ...payload, band: 'L2' }));
    expect(verdict(verifyReceiptOffline(json.receiptFor(0), { content: other }), 'content')?.status).toBe(
      'failed',
    );
  });

  it('ignores signatures by other keys on the note (e.g. witness cosignatures)', () => {
    const witness = generateDeviceKey('witness.example/w1');
    const note =
      receipt.checkpoint.note + signatureLines(signNote(noteText(receipt.checkpoint.note), witness)).slice(1);
    expect(verifyReceiptOffline({ ...receipt, checkpoint: { ...receipt.checkpoint, note } }).ok).toBe(true);
  });

  it('reports a stub anchor as unchecked, and an anchor not yet in a block as well-formed', () => {
    const stub = { ...SAMPLE_ANCHOR, chain: 'stub', chainId: 0, state: 'stub' };
    const pending = {
      ...SAMPLE_ANCHOR,
      blockNumber: null,
      blockHash: null,
      blockTimestamp: null,
      state: 'broadcast',
    };
    const result = verifyReceiptOffline(log.receiptFor(LEAF, [stub, pending]));
    expect(result.ok).toBe(true);
    expect(result.links.slice(-2).map((l) => l.status)).toEqual(['unchecked', 'unchecked']);
  });
});

describe('verifyReceipt on a tampered receipt', () => {
  type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };
  type Draft = Mutable<Omit<Receipt, 'format'>> & { format: string };
  const other = generateDeviceKey(ORIGIN);
  const flip = (hex: string, at = 0) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);
  const [origin, size, root64] = noteText(receipt.checkpoint.note).split('\n') as [string, string, string];
  const rebody = (body: string) => body + signatureLines(receipt.checkpoint.note);
  const otherRoot = Buffer.from(flip(receipt.checkpoint.root), 'hex');

  // Each case changes one thing and names exactly the links that must fail.
  const cases: [string, (r: Draft) => void, string[]][] = [
    ['evidence.id', (r) => (r.evidence.id = evidence(4).id), ['leaf', 'inclusion']],
    [
      'evidence.digest',
      (r) => (r.evidence.digest = flip(r.evidence.digest, 63)),
      ['content', 'leaf', 'inclusion'],
    ],
    ['evidence.kind', (r) => (r.evidence.kind = 'detection'), ['leaf', 'inclusion']],
    ['evidence.occurredAt', (r) => (r.evidence.occurredAt += 1), ['leaf', 'inclusion']],
    ['evidence.receivedAt', (r) => (r.evidence.receivedAt -= 1), ['leaf', 'inclusion']],
    ['evidence.payloadMime', (r) => (r.evidence.payloadMime = 'text/plain'), ['leaf', 'inclusion']],
    [
      'evidence.metadata value',
      (r) => (r.evidence.metadata = { ...r.evidence.metadata, band: 'L2' }),
      ['leaf', 'inclusion'],
    ],
    [
      'evidence.metadata number',
      (r) => ((r.evidence.metadata!.readings as number[])[0] = 1.25),
      ['leaf', 'inclusion'],
    ],
    [
      'evidence.metadata added key',
      (r) => (r.evidence.metadata = { ...r.evidence.metadata, extra: true }),
      ['leaf', 'inclusion'],
    ],
    ['evidence.metadata removed', (r) => (r.evidence.metadata = null), ['leaf', 'inclusion']],
    ['evidence.metadata emptied', (r) => (r.evidence.metadata = {}), ['leaf', 'inclusion']],
    [
      'evidence and leaf.leafHash changed together',
      (r) => {
        r.evidence.kind = 'detection';
        r.leaf.leafHash = log.receiptFor(4).leaf.leafHash;
      },
      ['leaf', 'inclusion'],
    ],
    ['leaf.leafHash only', (r) => (r.leaf.leafHash = flip(r.leaf.leafHash)), ['leaf']],
    ['leaf.leafIndex - 1', (r) => (r.leaf.leafIndex -= 1), ['inclusion']],
    ['leaf.leafIndex + 1', (r) => (r.leaf.leafIndex += 1), ['inclusion']],
    ['leaf.leafIndex beyond the tree', (r) => (r.leaf.leafIndex = 13), ['inclusion', 'checkpoint']],
    ...[0, 1, 2, 3].map((i): [string, (r: Draft) => void, string[]] => [
      `inclusion.proof[${i}]`,
      (r) => (r.inclusion.proof[i] = flip(r.inclusion.proof[i]!, 10)),
      ['inclusion'],
    ]),
    ['inclusion.proof truncated', (r) => r.inclusion.proof.pop(), ['inclusion']],
    ['inclusion.proof extended', (r) => r.inclusion.proof.push(r.inclusion.proof[0]!), ['inclusion']],
    ['inclusion.proof reordered', (r) => r.inclusion.proof.reverse(), ['inclusion']],
    ['inclusion.treeSize', (r) => (r.inclusion.treeSize -= 1), ['inclusion']],
    ['checkpoint.treeSize', (r) => (r.checkpoint.treeSize -= 1), ['inclusion', 'checkpoint']],
    ['checkpoint.root', (r) => (r.checkpoint.root = flip(r.checkpoint.root)), ['inclusion', 'checkpoint']],
    ['checkpoint.origin', (r) => (r.checkpoint.origin = 'other.example/log'), ['checkpoint']],
    [
      'checkpoint fields and proof sizes changed together',
      (r) => {
        r.checkpoint.treeSize = 12;
        r.inclusion.treeSize = 12;
      },
      // Leaf 3's path is the same in trees of 12 and 13 leaves, so the proof still reaches the root: it is
      // the signed checkpoint that binds the size to the root.
      ['checkpoint'],
    ],
    [
      'note size',
      (r) => (r.checkpoint.note = rebody(`${origin}\n12\n${root64}\n`)),
      ['checkpoint', 'signature'],
    ],
    [
      'note size and every copy of it',
      (r) => {
        r.checkpoint.note = rebody(`${origin}\n12\n${root64}\n`);
        r.checkpoint.treeSize = 12;
        r.inclusion.treeSize = 12;
      },
      ['signature'],
    ],
    [
      'note root',
      (r) => (r.checkpoint.note = rebody(`${origin}\n${size}\n${otherRoot.toString('base64')}\n`)),
      ['checkpoint', 'signature'],
    ],
    [
      'note origin',
      (r) => (r.checkpoint.note = rebody(`x.example\n${size}\n${root64}\n`)),
      ['checkpoint', 'signature'],
    ],
    [
      'note extension line',
      (r) => (r.checkpoint.note = rebody(`${origin}\n${size}\n${root64}\nx\n`)),
      ['signature'],
    ],
    [
      'note signature byte',
      (r) => {
        const note = r.checkpoint.note;
        const at = note.length - 10;
        r.checkpoint.note = note.slice(0, at) + (note[at] === 'A' ? 'B' : 'A') + note.slice(at + 1);
      },
      ['signature'],
    ],
    ['note unsigned', (r) => (r.checkpoint.note = noteText(r.checkpoint.note)), ['checkpoint', 'signature']],
    ['device key replaced', (r) => (r.device.publicKey = other.verifierKey), ['signature']],
    ['device key malformed', (r) => (r.device.publicKey = `${log.key.verifierKey}x`), ['signature']],
    [
      'whole checkpoint re-signed by another key',
      (r) => {
        const forged = signCheckpoint(
          { origin: ORIGIN, treeSize: 13, root: Buffer.from(r.checkpoint.root, 'hex') },
          other,
        );
        r.checkpoint.note = forged;
        r.device.publicKey = other.verifierKey;
      },
      ['signature'], // caught only because the verifier pins the expected key
    ],
    ['format', (r) => (r.format = 'fieldproof-receipt/v2'), ['format']],
    ['unknown field', (r) => ((r.leaf as Record<string, unknown>).extra = 1), ['format']],
    ['hash in uppercase', (r) => (r.leaf.leafHash = r.leaf.leafHash.toUpperCase()), ['format']],
  ];

  it.each(cases)('%s', (_name, mutate, expected) => {
    const draft = structuredClone(receipt) as Draft;
    mutate(draft);
    const result = verifyReceiptOffline(draft, { content, expectedPublicKey: log.key.verifierKey });
    expect(result.ok).toBe(false);
    expect(failedLinks(result)).toEqual(expected);
  });

  it('content that is not the record', () => {
    const result = verifyReceiptOffline(receipt, {
      content: new TextEncoder().encode('evidence content #4\n'),
    });
    expect(result.ok).toBe(false);
    expect(failedLinks(result)).toEqual(['content']);
    expect(verdict(result, 'content')?.detail).toMatch(/the evidence digest is/);
  });

  it('an expected key that is not the device key', () => {
    const result = verifyReceiptOffline(receipt, { expectedPublicKey: other.verifierKey });
    expect(failedLinks(result)).toEqual(['signature']);
    expect(verdict(result, 'signature')?.detail).toMatch(/is not the expected key/);
  });

  it('any single changed character of the signed note', () => {
    const note = receipt.checkpoint.note;
    for (let at = 0; at < note.length; at++) {
      const replacement = note[at] === 'A' ? 'B' : note[at] === '\n' ? ' ' : 'A';
      const tampered = note.slice(0, at) + replacement + note.slice(at + 1);
      const result = verifyReceiptOffline({
        ...receipt,
        checkpoint: { ...receipt.checkpoint, note: tampered },
      });
      expect(result.ok, `character ${at}`).toBe(false);
    }
  });

  it('any single changed byte of the signature', () => {
    const lines = signatureLines(receipt.checkpoint.note);
    const [prefix, sig64] = [
      lines.slice(0, lines.lastIndexOf(' ') + 1),
      lines.slice(lines.lastIndexOf(' ') + 1, -1),
    ];
    const signature = Buffer.from(sig64, 'base64');
    for (let i = 0; i < signature.length; i++) {
      const bad = Buffer.from(signature);
      bad[i]! ^= 0x01;
      const note = `${noteText(receipt.checkpoint.note)}${prefix}${bad.toString('base64')}\n`;
      const result = verifyReceiptOffline({ ...receipt, checkpoint: { ...receipt.checkpoint, note } });
      expect(failedLinks(result), `signature byte ${i}`).toEqual(['signature']);
    }
  });

  it('non-receipts, with a clear message', () => {
    expect(verifyReceiptOffline(null).links).toEqual([
      { link: 'format', status: 'failed', detail: 'receipt: expected an object, got null' },
    ]);
    const { inclusion: _i, ...missing } = receipt;
    expect(verifyReceiptOffline(missing).links[0]?.detail).toBe('receipt.inclusion: is missing');
  });
});

describe('verifyReceipt with RPC URLs', () => {
  it('fails an anchor when no RPC URL can be reached, without hanging or throwing', async () => {
    const result = await verifyReceipt(receipt, { rpcUrls: ['http://127.0.0.1:9/'], rpcTimeoutMs: 2000 });
    expect(result.ok).toBe(false);
    expect(failedLinks(result)).toEqual([ANCHOR_LINK]);
    expect(verdict(result, ANCHOR_LINK)?.detail).toMatch(/no reachable RPC URL serves chain sepolia/);
  });

  it('fails an anchor given a URL that is not a URL', async () => {
    const result = await verifyReceipt(receipt, { rpcUrls: ['not a url'] });
    expect(failedLinks(result)).toEqual([ANCHOR_LINK]);
  });

  it('keeps stub anchors unchecked even with RPC URLs', async () => {
    const stub = { ...SAMPLE_ANCHOR, chain: 'stub', chainId: 0, state: 'stub' };
    const result = await verifyReceipt(log.receiptFor(LEAF, [stub]), { rpcUrls: ['http://127.0.0.1:9/'] });
    expect(result.ok).toBe(true);
    expect(result.links.at(-1)).toMatchObject({
      status: 'unchecked',
      detail: 'stub anchor: not on any chain',
    });
  });
});
