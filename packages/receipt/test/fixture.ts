import { MemoryTree } from '@fieldproof/merkle';
import { generateDeviceKey, signCheckpoint, type DeviceKey } from '@fieldproof/note';
import { createHash } from 'node:crypto';
import {
  RECEIPT_FORMAT,
  buildReceipt,
  leafHashOf,
  type EvidenceRecord,
  type Receipt,
  type ReceiptAnchor,
} from '../src/index.js';

export const ORIGIN = 'fieldproof.example/unit-7';

export type TestRecord = EvidenceRecord & { readonly content: Uint8Array };

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Evidence record `i` of the test log; record 3 carries metadata, record 4 a payload type. */
export function evidence(i: number): TestRecord {
  const content = new TextEncoder().encode(`evidence content #${i}\n`);
  return {
    id: `0192f3a4-5b6c-7d8e-9f01-${String(i).padStart(12, '0')}`,
    digest: sha256Hex(content),
    kind: i % 2 === 0 ? 'detection' : 'jamming-operation',
    occurredAt: 1_730_000_000_000 + i * 1000,
    receivedAt: 1_730_000_000_500 + i * 1000,
    payloadMime: i === 4 ? 'image/jpeg' : null,
    metadata: i === 3 ? { band: 'L1', readings: [1.5, -3, 0], site: { lat: 48.1, lon: 11.6 } } : null,
    content,
  };
}

/**
 * A real log: the records (or `size` generated ones) appended to a Merkle tree, and a checkpoint of the
 * whole tree signed by a device key.
 */
export function createLog(
  recordsOrSize: number | readonly TestRecord[],
  key: DeviceKey = generateDeviceKey(ORIGIN),
) {
  const records =
    typeof recordsOrSize === 'number'
      ? Array.from({ length: recordsOrSize }, (_, i) => evidence(i))
      : recordsOrSize;
  const tree = new MemoryTree();
  tree.append(records.map((r) => leafHashOf(r)));
  const note = signCheckpoint({ origin: ORIGIN, treeSize: records.length, root: tree.root() }, key);
  const receiptFor = (leafIndex: number, anchors: ReceiptAnchor[] = []): Receipt => {
    const { content: _content, ...record } = records[leafIndex]!;
    return buildReceipt({
      evidence: record,
      leafIndex,
      inclusionProof: tree.inclusionProof(leafIndex),
      checkpointNote: note,
      devicePublicKey: key.verifierKey,
      anchors,
      format: RECEIPT_FORMAT,
    });
  };
  return { key, records, tree, note, receiptFor };
}

export const SAMPLE_ANCHOR: ReceiptAnchor = {
  chain: 'sepolia',
  chainId: 11155111,
  txHash: `0x${'ab'.repeat(32)}`,
  blockNumber: 7_000_000,
  blockHash: `0x${'cd'.repeat(32)}`,
  blockTimestamp: 1_730_000_100_000,
  state: 'final',
};
