import { afterAll, describe, expect, it } from 'vitest';
import {
  advanceFleetProofCursor,
  anchoringOfLeaf,
  directStatusBounds,
  getFleetProofCursor,
  listFinalFleetTreeSizes,
  listSmallestFinalFleetProofs,
  recordFleetProofFailure,
  saveFleetProof,
  smallestFinalFleetTreeSize,
  statusBounds,
} from '@fieldproof/db';
import { createTestDatabase, dropTestDatabases, testEngines } from '../../../test/support/databases.js';
import { failure, insertFinalAnchor } from '../../../test/support/anchor-rows.js';

/**
 * Fleet proofs (migration 0010, issue 16) on both engines: a stored final fleet proof of checkpoint N
 * makes leaves 0 … N−1 final (status bounds, per-leaf anchoring with `via`), the direct bounds leave it
 * out, a later proof of the same checkpoint replaces the stored one, and the cursor keeps its failures.
 */
afterAll(dropTestDatabases);

/** A fleet receipt as stored: one proven final branch (only the fields the reads look at matter here). */
function fleetReceipt(txByte: string, block: number): string {
  return JSON.stringify({
    format: 'fieldproof-receipt/v2',
    anchors: [
      {
        chain: 'local',
        state: 'final',
        steps: [
          { type: 'anchor-tx', chainId: 31337, txHash: `0x${txByte.repeat(32)}`, rawTx: '0x00' },
          { type: 'tx-trie', txIndex: 0, proof: [] },
          { type: 'header', rawHeader: '0x00' },
          {
            type: 'block',
            chainId: 31337,
            number: block,
            hash: `0x${'ee'.repeat(32)}`,
            timestamp: 1_700_000_000_000,
          },
        ],
      },
    ],
  });
}

describe.each(testEngines())('fleet proofs on %s', (engine) => {
  it('finality, per-leaf anchoring, replacement and the cursor', async () => {
    const database = await createTestDatabase(engine);
    try {
      const db = database.db;
      await insertFinalAnchor(db, '0x00'); // checkpoint 1, anchored final directly
      for (const size of [5, 10]) {
        await db
          .insertInto('log_checkpoints')
          .values({
            tree_size: size,
            root_hash: 'ab'.repeat(32),
            origin: 'o',
            signed_note: `n${size}`,
            created_at: 1,
          })
          .execute();
      }
      const row = (collector: string, treeSize: number, state: 'final' | 'included', tx = 'aa') => ({
        collector,
        treeSize,
        noteHash: 'cd'.repeat(32),
        fleetTreeSize: 3,
        receipt: fleetReceipt(tx, 9),
        state,
        now: 100,
      });
      // Only a checkpoint this unit signed can have one.
      expect(await failure(saveFleetProof(db, row('fleet', 7, 'final')))).toBe('foreign_key');
      expect(await saveFleetProof(db, row('fleet', 5, 'included'))).toBe('inserted');
      expect(await statusBounds(db)).toEqual({ final: 1, confirmed: 1, anchored: 1 });
      expect(await saveFleetProof(db, row('fleet', 5, 'final'))).toBe('replaced');
      await saveFleetProof(db, row('fleet', 10, 'final'));
      await saveFleetProof(db, row('backup', 10, 'final', 'bb'));
      expect(await statusBounds(db)).toEqual({ final: 10, confirmed: 10, anchored: 10 });
      expect(await directStatusBounds(db)).toEqual({ final: 1, confirmed: 1, anchored: 1 });
      expect(await smallestFinalFleetTreeSize(db, 2)).toBe(5);
      expect(await smallestFinalFleetTreeSize(db, 11)).toBeUndefined();
      expect((await listSmallestFinalFleetProofs(db, 2)).map((p) => [p.collector, p.treeSize])).toEqual([
        ['backup', 10],
        ['fleet', 5],
      ]);
      expect(await listFinalFleetTreeSizes(db)).toEqual([
        { collector: 'backup', treeSize: 10, updatedAt: 100 },
        { collector: 'fleet', treeSize: 10, updatedAt: 100 },
      ]);
      // Leaf 3: the direct anchor of 1 does not cover it; each collector's smallest covering proof does.
      const anchors = await anchoringOfLeaf(db, 3);
      expect(anchors).toEqual([
        expect.objectContaining({
          via: 'backup',
          treeSize: 10,
          state: 'final',
          txHash: `0x${'bb'.repeat(32)}`,
        }),
        expect.objectContaining({ via: 'fleet', treeSize: 5, state: 'final', blockNumber: 9 }),
      ]);
      expect((await anchoringOfLeaf(db, 0)).map((a) => a.via ?? 'direct')).toEqual([
        'direct',
        'backup',
        'fleet',
      ]);

      expect(await getFleetProofCursor(db, 'fleet')).toBeUndefined();
      await recordFleetProofFailure(db, 'fleet', { error: 'down', nextAttemptAt: 50, stopped: false }, 10);
      const failed = await recordFleetProofFailure(
        db,
        'fleet',
        { error: 'still', nextAttemptAt: 90, stopped: true },
        20,
      );
      expect(failed).toMatchObject({
        cursor: '',
        attempts: 2,
        lastError: 'still',
        stopped: true,
        nextAttemptAt: 90,
      });
      await advanceFleetProofCursor(db, 'fleet', 'c-42', 30);
      expect(await getFleetProofCursor(db, 'fleet')).toMatchObject({
        cursor: 'c-42',
        fetchedAt: 30,
        attempts: 0,
        lastError: undefined,
        stopped: false,
      });
    } finally {
      await database.close();
    }
  });
});
