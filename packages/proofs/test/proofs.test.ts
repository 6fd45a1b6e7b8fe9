import type { Database } from '@fieldproof/db';
import { fromHex, toHex, verifyConsistency, verifyInclusion } from '@fieldproof/merkle';
import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testEngines } from '../../../test/support/databases.js';
import { createLogFixture, type LogFixture } from '../../../test/support/log-fixture.js';
import {
  LogInconsistencyError,
  checkpointAt,
  consistencyProofFor,
  inclusionProofFor,
  latestCheckpoint,
} from '../src/index.js';

/** Batches chosen so checkpoints land on powers of two, odd sizes and sizes one past a power of two. */
const BATCHES = [1, 1, 2, 3, 1, 8, 1, 15, 1, 31, 7];

describe.each(testEngines())('proofs from the log store (%s)', (engine) => {
  let database: Database;
  let log: LogFixture;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    log = await createLogFixture(database.db);
    for (const count of BATCHES) await log.appendBatch(count);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('serves the inclusion proof of every leaf in every checkpointed tree, equal to the reference tree', async () => {
    expect(log.checkpoints).toEqual([1, 2, 4, 7, 8, 16, 17, 32, 33, 64, 71]);
    for (const treeSize of log.checkpoints) {
      const root = log.tree.root(treeSize);
      for (let leafIndex = 0; leafIndex < treeSize; leafIndex++) {
        const proof = await inclusionProofFor(database.db, leafIndex, treeSize);
        expect(proof.map(toHex), `leaf ${leafIndex} of ${treeSize}`).toEqual(
          log.tree.inclusionProof(leafIndex, treeSize).map(toHex),
        );
        const leafHash = log.tree.node(0, leafIndex)!;
        expect(() => verifyInclusion(leafIndex, treeSize, leafHash, proof, root)).not.toThrow();
      }
    }
  });

  it('serves inclusion proofs for tree sizes between checkpoints too', async () => {
    for (const treeSize of [3, 5, 6, 9, 50, 70]) {
      for (const leafIndex of [0, 1, treeSize - 2, treeSize - 1]) {
        const proof = await inclusionProofFor(database.db, leafIndex, treeSize);
        expect(proof.map(toHex)).toEqual(log.tree.inclusionProof(leafIndex, treeSize).map(toHex));
      }
    }
  });

  it('serves the consistency proof between every pair of checkpoints, equal to the reference tree', async () => {
    for (const size1 of log.checkpoints) {
      for (const size2 of log.checkpoints.filter((s) => s >= size1)) {
        const proof = await consistencyProofFor(database.db, size1, size2);
        expect(proof.map(toHex), `${size1} → ${size2}`).toEqual(
          log.tree.consistencyProof(size1, size2).map(toHex),
        );
        expect(() =>
          verifyConsistency(size1, size2, proof, log.tree.root(size1), log.tree.root(size2)),
        ).not.toThrow();
      }
    }
    expect(await consistencyProofFor(database.db, 0, 71)).toEqual([]);
  });

  it('rejects proofs the tree cannot hold', async () => {
    await expect(inclusionProofFor(database.db, 71, 71)).rejects.toThrow(/beyond treeSize/);
    await expect(consistencyProofFor(database.db, 8, 4)).rejects.toThrow();
    // Beyond the stored log: a missing node is a broken store, reported as such.
    await expect(inclusionProofFor(database.db, 3, 200)).rejects.toBeInstanceOf(LogInconsistencyError);
  });

  it('reads the upper levels of a tree once: a repeated proof runs no query, and a grown tree is still right', async () => {
    // The stored perfect nodes never change, so readProof keeps the upper levels per database handle
    // (for a tree this small, every level). Count the queries through a handle of its own (a proxy: the
    // node reads are compiled queries, which plugins do not see).
    let queries = 0;
    const counted = new Proxy(database.db, {
      get(target, property) {
        if (property === 'executeQuery') {
          return (query: CompiledQuery) => {
            queries++;
            return target.executeQuery(query);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const first = await inclusionProofFor(counted, 5, 64);
    expect(queries).toBe(1);
    const again = await inclusionProofFor(counted, 5, 64);
    expect(queries).toBe(1);
    expect(again.map(toHex)).toEqual(first.map(toHex));
    expect((await consistencyProofFor(counted, 32, 64)).map(toHex)).toEqual(
      log.tree.consistencyProof(32, 64).map(toHex),
    );
    expect(queries).toBe(1); // (5,0) of the tree of 64 is the only node it needs, and it is cached
    // The tree of 71 shares perfect nodes with the tree of 64 and needs new ones too.
    const grown = await inclusionProofFor(counted, 5, 71);
    expect(grown.map(toHex)).toEqual(log.tree.inclusionProof(5, 71).map(toHex));
    expect(() => verifyInclusion(5, 71, log.tree.node(0, 5)!, grown, log.tree.root(71))).not.toThrow();
  });

  it('reads checkpoints with the fields of their signed note', async () => {
    const latest = await latestCheckpoint(database.db);
    expect(latest).toMatchObject({
      treeSize: 71,
      root: toHex(log.tree.root(71)),
      origin: 'fieldproof.test/unit-9',
    });
    expect(latest?.note).toMatch(/^fieldproof\.test\/unit-9\n71\n/);
    expect((await checkpointAt(database.db, 16))?.root).toBe(toHex(log.tree.root(16)));
    expect(await checkpointAt(database.db, 15)).toBeUndefined();
    expect(fromHex(latest!.root)).toEqual(log.tree.root());
  });
});
