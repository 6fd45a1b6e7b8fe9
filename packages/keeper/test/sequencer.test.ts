import BetterSqlite3 from 'better-sqlite3';
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { createDatabase, getNodes, migrate, tryLockSequencer } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import {
  MemoryTree,
  buildProof,
  consistencyProofNodes,
  fromHex,
  inclusionProofNodes,
  rootFromLeafHashes,
  toHex,
  verifyConsistency,
  verifyInclusion,
} from '@fieldproof/merkle';
import { openCheckpoint } from '@fieldproof/note';
import { createSequencer } from '@fieldproof/keeper';
import {
  createTestDatabase,
  freshDatabaseUrl,
  targetOf,
  testEngines,
} from '../../../test/support/databases.js';
import { addEvidence, drain, leafHashOfEvidence, testDeps, testDevice } from './support.js';
import type { TestEvidence } from './support.js';

async function leavesOf(database: Database) {
  return database.db.selectFrom('log_leaves').selectAll().orderBy('leaf_index').execute();
}

async function checkpointsOf(database: Database) {
  return database.db.selectFrom('log_checkpoints').selectAll().orderBy('tree_size').execute();
}

describe.each(testEngines())('sequencer on %s', (engine) => {
  it('assigns gap-free indices in queue (id) order across many batches, one checkpoint per batch', async () => {
    const database = await createTestDatabase(engine);
    try {
      const device = testDevice();
      const sequencer = createSequencer(testDeps(database, { KEEPER_SEQUENCE_BATCH_MAX: '7' }), device);
      expect(await sequencer.runOnce()).toBe(false); // empty queue
      const records: TestEvidence[] = [];
      for (let round = 0; round < 4; round++) {
        records.push(...(await addEvidence(database, 10 + round * 9)));
        await drain(sequencer);
      }
      records.push(...(await addEvidence(database, 1)));
      expect(await drain(sequencer)).toBe(1);

      const leaves = await leavesOf(database);
      expect(leaves.map((l) => Number(l.leaf_index))).toEqual(records.map((_, i) => i));
      expect(leaves.map((l) => l.evidence_id)).toEqual(records.map((r) => r.id).sort());
      expect(leaves.map((l) => l.leaf_hash)).toEqual(records.map((r) => toHex(leafHashOfEvidence(r))));
      const queue = await database.db.selectFrom('sequence_queue').selectAll().execute();
      expect(queue).toEqual([]);

      // Batches of at most 7; sizes strictly increasing and ending at the tree size.
      const sizes = (await checkpointsOf(database)).map((c) => Number(c.tree_size));
      expect(sizes.at(-1)).toBe(records.length);
      sizes.forEach((s, i) => expect(s - (sizes[i - 1] ?? 0)).toBeGreaterThan(0));
      sizes.forEach((s, i) => expect(s - (sizes[i - 1] ?? 0)).toBeLessThanOrEqual(7));
      expect(sequencer.lastBatch?.treeSize).toBe(records.length);
    } finally {
      await database.close();
    }
  });

  it('stores exactly the nodes MemoryTree keeps; every checkpoint verifies and has the recomputed root', async () => {
    const database = await createTestDatabase(engine);
    try {
      const device = testDevice('example.org/log/n');
      const sequencer = createSequencer(testDeps(database, { KEEPER_SEQUENCE_BATCH_MAX: '13' }), device);
      const records: TestEvidence[] = [];
      for (const n of [1, 2, 5, 30, 64, 3]) {
        records.push(...(await addEvidence(database, n)));
        await drain(sequencer);
      }
      const hashes = records.map(leafHashOfEvidence);
      const tree = new MemoryTree();
      tree.append(hashes);

      const nodes = await database.db.selectFrom('log_nodes').selectAll().execute();
      let expected = 0;
      for (let level = 1; 2 ** level <= records.length; level++)
        expected += Math.floor(records.length / 2 ** level);
      expect(nodes).toHaveLength(expected);
      for (const n of nodes) expect(n.hash).toBe(toHex(tree.node(Number(n.level), Number(n.node_index))!));

      const checkpoints = await checkpointsOf(database);
      expect(checkpoints.length).toBeGreaterThan(6);
      for (const c of checkpoints) {
        const size = Number(c.tree_size);
        const { checkpoint } = openCheckpoint(c.signed_note, device.verifierKey);
        expect(checkpoint.origin).toBe(device.origin);
        expect(c.origin).toBe(device.origin);
        expect(checkpoint.treeSize).toBe(size);
        const root = rootFromLeafHashes(hashes.slice(0, size));
        expect(toHex(checkpoint.root)).toBe(toHex(root));
        expect(c.root_hash).toBe(toHex(root));
      }
    } finally {
      await database.close();
    }
  });

  it('serves inclusion and consistency proofs from stored nodes that verify', async () => {
    const database = await createTestDatabase(engine);
    try {
      const device = testDevice();
      const sequencer = createSequencer(testDeps(database, { KEEPER_SEQUENCE_BATCH_MAX: '50' }), device);
      const records = await addEvidence(database, 211);
      await drain(sequencer);
      const hashes = records.map(leafHashOfEvidence);
      const checkpoints = await checkpointsOf(database);
      const lookupFrom = async (ids: { level: number; index: number }[]) => {
        const rows = await getNodes(database.db, ids);
        const map = new Map(rows.map((r) => [`${r.level}/${r.index}`, fromHex(r.hash)]));
        return (level: number, index: number) => map.get(`${level}/${index}`);
      };
      let seed = 7;
      const random = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % n;
      for (const c of checkpoints) {
        const size = Number(c.tree_size);
        const root = fromHex(c.root_hash);
        for (let k = 0; k < 8; k++) {
          const leafIndex = random(size);
          const elements = inclusionProofNodes(leafIndex, size);
          const proof = buildProof(elements, await lookupFrom(elements.flat()));
          expect(() => verifyInclusion(leafIndex, size, hashes[leafIndex]!, proof, root)).not.toThrow();
        }
      }
      for (let i = 0; i + 1 < checkpoints.length; i++) {
        const [a, b] = [checkpoints[i]!, checkpoints.at(-1)!];
        const elements = consistencyProofNodes(Number(a.tree_size), Number(b.tree_size));
        const proof = buildProof(elements, await lookupFrom(elements.flat()));
        expect(() =>
          verifyConsistency(
            Number(a.tree_size),
            Number(b.tree_size),
            proof,
            fromHex(a.root_hash),
            fromHex(b.root_hash),
          ),
        ).not.toThrow();
      }
    } finally {
      await database.close();
    }
  });

  it('reads O(log n) tree rows per append: popcount(n) frontier nodes plus the last leaf', async () => {
    const database = await createTestDatabase(engine);
    try {
      const counter = new TreeReadCounter();
      const counted: Database = { ...database, db: database.db.withPlugin(counter) };
      const sequencer = createSequencer(
        testDeps(counted, { KEEPER_SEQUENCE_BATCH_MAX: '5000' }),
        testDevice(),
      );
      let size = 0;
      for (const target of [1000, 1023, 1024, 2047, 3000]) {
        await addEvidence(database, target - size);
        counter.rows = 0;
        await drain(sequencer);
        // The batch appended to a tree of `size` leaves: its frontier is popcount(size) nodes, plus one
        // leaf row for the leaf count. Independent of how many leaves are stored.
        expect(counter.rows).toBe(popcount(size) + (size > 0 ? 1 : 0));
        size = target;
      }
    } finally {
      await database.close();
    }
  });

  it.runIf(engine === 'postgres')('backs off while another keeper holds the sequencer lock', async () => {
    const url = await freshDatabaseUrl(engine);
    const a = createDatabase(targetOf(url));
    await migrate(a);
    const b = createDatabase(targetOf(url));
    try {
      const sequencer = createSequencer(testDeps(b), testDevice());
      await addEvidence(a, 3);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const holder = a.db.transaction().execute(async (trx) => {
        expect(await tryLockSequencer(trx, a.capabilities)).toBe(true);
        locked();
        await held;
      });
      await isLocked;
      expect(await sequencer.runOnce()).toBe(false); // queued work, but another keeper sequences
      expect(await a.db.selectFrom('log_leaves').selectAll().execute()).toEqual([]);
      release();
      await holder;
      expect(await sequencer.runOnce()).toBe(true);
      expect(await leavesOf(b)).toHaveLength(3);
    } finally {
      await a.close();
      await b.close();
    }
  });

  // Two connections in ONE process cannot race on SQLite (a BEGIN IMMEDIATE waiting in the busy handler
  // blocks the thread the lock holder needs); there the write lock alone serialises keeper processes.
  it.runIf(engine === 'postgres')(
    'never produces a gap or a duplicate with two sequencers racing',
    async () => {
      const url = await freshDatabaseUrl(engine);
      const a = createDatabase(targetOf(url));
      await migrate(a);
      const b = createDatabase(targetOf(url));
      try {
        const device = testDevice();
        const s1 = createSequencer(testDeps(a, { KEEPER_SEQUENCE_BATCH_MAX: '9' }), device);
        const s2 = createSequencer(testDeps(b, { KEEPER_SEQUENCE_BATCH_MAX: '11' }), device);
        const records: TestEvidence[] = [];
        let writing = true;
        const writer = (async () => {
          for (let i = 0; i < 25; i++) {
            records.push(...(await addEvidence(i % 2 === 0 ? a : b, 1 + (i % 6))));
            await new Promise((r) => setTimeout(r, 2));
          }
          writing = false;
        })();
        const loop = async (s: typeof s1) => {
          let work = 0;
          while (writing || (await s.runOnce())) if (await s.runOnce()) work++;
          return work;
        };
        const [w1, w2] = await Promise.all([loop(s1), loop(s2), writer]);
        await drain(s1);
        expect(w1 + w2).toBeGreaterThan(0);

        const leaves = await leavesOf(a);
        expect(leaves.map((l) => Number(l.leaf_index))).toEqual(records.map((_, i) => i));
        expect(new Set(leaves.map((l) => l.evidence_id)).size).toBe(records.length);
        expect(new Set(leaves.map((l) => l.evidence_id))).toEqual(new Set(records.map((r) => r.id)));
        const byId = new Map(records.map((r) => [r.id, r]));
        const hashes = leaves.map((l) => leafHashOfEvidence(byId.get(l.evidence_id)!));
        for (const c of await checkpointsOf(a)) {
          const size = Number(c.tree_size);
          expect(toHex(openCheckpoint(c.signed_note, device.verifierKey).checkpoint.root)).toBe(
            toHex(rootFromLeafHashes(hashes.slice(0, size))),
          );
        }
      } finally {
        await a.close();
        await b.close();
      }
    },
  );
});

describe('sequencer on sqlite: an idle keeper takes no write lock', () => {
  it('another connection with busy_timeout 0 holds BEGIN IMMEDIATE while the keeper polls', async () => {
    const url = await freshDatabaseUrl('sqlite');
    const target = targetOf(url);
    const database = createDatabase(target, { sqlite: { busyTimeoutMs: 50, synchronous: 'FULL' } });
    await migrate(database);
    const other = new BetterSqlite3(target.engine === 'sqlite' ? target.path : '');
    other.pragma('busy_timeout = 0');
    try {
      const sequencer = createSequencer(testDeps(database), testDevice());
      for (let i = 0; i < 20; i++) {
        other.exec('BEGIN IMMEDIATE'); // would throw SQLITE_BUSY if the keeper held or kept the write lock
        expect(await sequencer.runOnce()).toBe(false); // and the keeper's poll does not need it
        other.exec('COMMIT');
      }
      // With work queued, the keeper does need the lock: proof that the test would catch a writer.
      await addEvidence(database, 1);
      other.exec('BEGIN IMMEDIATE');
      await expect(sequencer.runOnce()).rejects.toMatchObject({
        code: expect.stringMatching(/^SQLITE_BUSY/) as string,
      });
      other.exec('COMMIT');
      expect(await sequencer.runOnce()).toBe(true);
    } finally {
      other.close();
      await database.close();
    }
  });
});

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** Counts rows that SELECTs on log_leaves / log_nodes return (a kysely plugin: works on both engines). */
class TreeReadCounter implements KyselyPlugin {
  rows = 0;
  readonly #treeQueries = new Set<unknown>();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const text = JSON.stringify(args.node);
    if (args.node.kind === 'SelectQueryNode' && /"name":"log_(leaves|nodes)"/.test(text)) {
      this.#treeQueries.add(args.queryId);
    }
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    // getNodes runs one pre-written statement (no query tree to inspect): recognise its rows by shape.
    const first = args.result.rows[0];
    const nodeRows = first !== undefined && 'level' in first && 'node_index' in first && 'hash' in first;
    if (this.#treeQueries.delete(args.queryId) || nodeRows) this.rows += args.result.rows.length;
    return args.result;
  }
}
