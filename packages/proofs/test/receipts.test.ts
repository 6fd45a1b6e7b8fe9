import type { Database } from '@fieldproof/db';
import { toHex } from '@fieldproof/merkle';
import { verifyReceiptOffline, type Receipt } from '@fieldproof/receipt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testEngines } from '../../../test/support/databases.js';
import { V1_LEAF_COLUMNS } from '../../../test/support/leaf-columns.js';
import {
  FIXTURE_SENDER,
  addAnchor,
  createLogFixture,
  type FixtureRecord,
  type LogFixture,
} from '../../../test/support/log-fixture.js';
import {
  EvidenceNotFoundError,
  LogInconsistencyError,
  NotSequencedError,
  createReceiptReader,
  receiptFor,
  receiptTreeSize,
} from '../src/index.js';

const SEPOLIA = { chain: 'sepolia', chainId: 11155111 };
const block = (n: number) => ({
  number: n,
  hash: `0x${n.toString(16).padStart(64, '0')}`,
  timestamp: 1_750_000_600_000 + n * 12_000,
});

function verifies(receipt: Receipt, record: FixtureRecord, key: string) {
  const result = verifyReceiptOffline(receipt, { content: record.content, expectedPublicKey: key });
  expect(result.links.filter((l) => l.status === 'failed')).toEqual([]);
  expect(result.links.find((l) => l.link === 'content')?.status).toBe('ok');
}

describe('receiptTreeSize: which checkpoint a receipt proves inclusion in', () => {
  const bounds = { final: 10, confirmed: 20, anchored: 30 };
  it.each([
    { leafIndex: 0, latest: 50, size: 10, why: 'newest final anchor covers it' },
    { leafIndex: 9, latest: 50, size: 10, why: 'final preferred over a newer included anchor' },
    { leafIndex: 10, latest: 50, size: 30, why: 'newest included or confirmed anchor' },
    { leafIndex: 29, latest: 50, size: 30, why: 'last leaf the anchor covers' },
    { leafIndex: 30, latest: 50, size: 50, why: 'no anchor covers it: latest checkpoint' },
    { leafIndex: 50, latest: 50, size: undefined, why: 'not in any checkpoint' },
  ])('leaf $leafIndex → $size ($why)', ({ leafIndex, latest, size }) => {
    expect(receiptTreeSize(leafIndex, bounds, latest)).toBe(size);
  });
});

describe.each(testEngines())('receipts from the log store (%s)', (engine) => {
  let database: Database;
  let log: LogFixture;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    log = await createLogFixture(database.db);
    for (const count of [3, 5, 9, 4]) await log.appendBatch(count); // checkpoints 3, 8, 17, 21
  });
  afterAll(async () => {
    await database?.close();
  });

  it('builds a verifying receipt for every leaf, to the latest checkpoint while nothing is anchored', async () => {
    for (const record of log.records) {
      const receipt = await receiptFor(database.db, record.id, { format: 'fieldproof-receipt/v1' });
      expect(receipt.leaf.leafIndex).toBe(record.leafIndex);
      expect(receipt.checkpoint.treeSize).toBe(21);
      expect(receipt.anchors).toEqual([]);
      expect(receipt.device.publicKey).toBe(log.key.verifierKey);
      expect(receipt.evidence).toEqual({
        id: record.id,
        digest: record.digest,
        kind: record.kind,
        occurredAt: record.occurredAt,
        receivedAt: record.receivedAt,
        payloadMime: record.payloadMime,
        metadata: record.metadata,
      });
      verifies(receipt, record, log.key.verifierKey);
    }
  });

  it('proves inclusion in the newest final-anchored checkpoint, else the newest included one, with its anchors', async () => {
    // size 8: final on sepolia (after a reorg: the first transaction is history) and a stub anchor;
    // size 17: included on sepolia; size 21: only a broadcast transaction (not in a block).
    await addAnchor(database.db, {
      ...SEPOLIA,
      treeSize: 8,
      jobState: 'final',
      txs: [
        { state: 'reorged', block: block(90) },
        { state: 'final', block: block(100) },
      ],
    });
    await addAnchor(database.db, {
      chain: 'stub',
      chainId: 0,
      treeSize: 8,
      jobState: 'confirmed',
      txs: [{ state: 'confirmed' }],
    });
    await addAnchor(database.db, {
      ...SEPOLIA,
      treeSize: 17,
      jobState: 'included',
      txs: [{ state: 'included', block: block(120) }],
    });
    await addAnchor(database.db, {
      ...SEPOLIA,
      treeSize: 21,
      jobState: 'broadcast',
      txs: [{ state: 'broadcast' }],
    });

    const early = await receiptFor(database.db, log.records[2]!.id, { format: 'fieldproof-receipt/v1' });
    expect(early.checkpoint.treeSize).toBe(8);
    expect(early.inclusion.proof).toEqual(log.tree.inclusionProof(2, 8).map(toHex));
    expect(early.anchors).toEqual([
      {
        ...SEPOLIA,
        txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) as string,
        blockNumber: 100,
        blockHash: block(100).hash,
        blockTimestamp: block(100).timestamp,
        state: 'final',
        from: FIXTURE_SENDER,
      },
      expect.objectContaining({ chain: 'stub', chainId: 0, state: 'stub', blockNumber: null }),
    ]);
    verifies(early, log.records[2]!, log.key.verifierKey);

    const middle = await receiptFor(database.db, log.records[10]!.id, { format: 'fieldproof-receipt/v1' });
    expect(middle.checkpoint.treeSize).toBe(17);
    expect(middle.anchors.map((a) => [a.state, a.blockNumber])).toEqual([['included', 120]]);
    verifies(middle, log.records[10]!, log.key.verifierKey);

    const late = await receiptFor(database.db, log.records[19]!.id, { format: 'fieldproof-receipt/v1' });
    expect(late.checkpoint.treeSize).toBe(21);
    expect(late.anchors).toEqual([
      expect.objectContaining({
        state: 'broadcast',
        blockNumber: null,
        blockHash: null,
        blockTimestamp: null,
      }),
    ]);
    verifies(late, log.records[19]!, log.key.verifierKey);
  });

  it('says why there is no receipt', async () => {
    const [queued] = await log.recordUnsequenced(1);
    await expect(
      receiptFor(database.db, queued!.id, { format: 'fieldproof-receipt/v1' }),
    ).rejects.toBeInstanceOf(NotSequencedError);
    await expect(
      receiptFor(database.db, '01930000-0000-7000-8000-000000000000', { format: 'fieldproof-receipt/v1' }),
    ).rejects.toBeInstanceOf(EvidenceNotFoundError);
  });

  it('one reader serves many receipts against one view of the log', async () => {
    const reader = await createReceiptReader(database.db, { format: 'fieldproof-receipt/v1' });
    expect(reader.treeSize).toBe(21);
    expect(reader.verifierKey).toBe(log.key.verifierKey);
    await log.appendBatch(2); // sequenced after the reader was made: not in its view
    const newest = log.records.at(-1)!;
    const row = { ...rowOf(newest), leaf_index: newest.leafIndex };
    await expect(reader.receiptOf(row)).rejects.toBeInstanceOf(NotSequencedError);
    expect(
      (await receiptFor(database.db, newest.id, { format: 'fieldproof-receipt/v1' })).checkpoint.treeSize,
    ).toBe(23);
  });

  it('refuses to hand out a receipt when the store lost a node', async () => {
    // Leaf 22's proof in tree 23 needs node (1, 10), the hash of leaves 20–21.
    await database.db.deleteFrom('log_nodes').where('level', '=', 1).where('node_index', '=', 10).execute();
    // Through a handle that has not read that node before: proofs keep the nodes they read per handle
    // (stored nodes never change), so a node lost after it was read is still served, correctly.
    const fresh = new Proxy(database.db, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await expect(
      receiptFor(fresh, log.records[22]!.id, { format: 'fieldproof-receipt/v1' }),
    ).rejects.toBeInstanceOf(LogInconsistencyError);
  });
});

function rowOf(record: FixtureRecord) {
  return {
    id: record.id,
    digest: record.digest,
    kind: record.kind,
    source: 'digest' as const,
    occurred_at: record.occurredAt,
    received_at: record.receivedAt,
    payload_mime: record.payloadMime ?? null,
    payload_size: null,
    payload_json: null,
    metadata: record.metadata === null ? null : JSON.stringify(record.metadata),
    content_stored: 0 as const,
    ...V1_LEAF_COLUMNS,
  };
}
