// The database ceiling and the log, in this process on one SQLite file:
//   1. raw better-sqlite3 inserts of evidence rows (the api's rows; and, for comparison, with the
//      sequence_queue row each digest wrote before migration 0007), same PRAGMAs;
//   2. the keeper's sequencer draining those rows (runOnce until idle), vs its CPU work alone;
//   3. inclusion / consistency proofs read from the database, vs the same proofs from an in-memory tree;
//   4. receipts built from the database and verified offline (verifyReceiptOffline).
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import path from 'node:path';
import { loadConfig } from '@fieldproof/config';
import {
  createDatabase,
  findEvidenceWithLeaf,
  getLeafByIndex,
  migrate,
  newId,
  openSqlite,
  readPragmas,
  readSequenceQueue,
} from '@fieldproof/db';
import { createSequencer, openDeviceIdentity } from '@fieldproof/keeper';
import {
  MemoryTree,
  appendToFrontier,
  buildProof,
  consistencyProofNodes,
  fromHex,
  inclusionProofNodes,
  rootFromFrontier,
  verifyInclusion,
} from '@fieldproof/merkle';
import { signCheckpoint } from '@fieldproof/note';
import { consistencyProofFor, createReceiptReader, inclusionProofFor } from '@fieldproof/proofs';
import { buildReceipt, evidenceRecordOf, leafHashOf, verifyReceiptOffline } from '@fieldproof/receipt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { writeBytes } from './processes.mjs';
import { ratio } from './report.mjs';

/** The group commit's default batch (API_GROUP_COMMIT_MAX_BATCH): the api's best case. */
export const GROUP_COMMIT_BATCH = 256;

/**
 * A unique 64-hex digest per call, spread over the whole key space like the SHA-256 digests clients send:
 * 8 hex digits of the counter through a multiplicative hash (a bijection on 32 bits), a random run prefix,
 * then the counter itself (so a digest never repeats). Cheap enough for the load generator, unlike a real
 * hash per request. Digests in counter order would all land at one end of the unique digest index, which
 * clients do not get: raw inserts measured 12–15 µs of CPU per row that way against 33–47 µs spread
 * (BENCHMARKS.md).
 */
export function digestSource() {
  const prefix = createHash('sha256').update(`${process.pid} ${Date.now()} ${Math.random()}`).digest('hex');
  let n = 0;
  return () => {
    const i = n++;
    const spread = (Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0');
    return spread + prefix.slice(0, 16) + i.toString(16).padStart(40, '0');
  };
}

/**
 * Raw inserts of the rows the api writes for a digest submission, in transactions of `batch` rows (also the
 * sqlite peer's insert, bench/noop-server.mjs): the evidence row (SQLite since migration 0007), or with
 * `withQueue` also its sequence_queue row (what it wrote under 0006; the caller drops the trigger that
 * refuses those rows now). `clock`: each row's received_at (the offline simulation injects one).
 */
export function rawInserter(raw, nextDigest, { clock = Date.now, withQueue = false } = {}) {
  const evidence = raw.prepare(
    'INSERT INTO evidence (id, digest, kind, source, occurred_at, received_at, payload_mime, payload_size, ' +
      'payload_json, metadata, content_stored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const queue = raw.prepare('INSERT INTO sequence_queue (evidence_id, enqueued_at) VALUES (?, ?)');
  return function insertBatch(batch) {
    let id;
    raw.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < batch; i++) {
      const now = clock();
      id = newId();
      evidence.run(id, nextDigest(), 'bench', 'digest', now - 1000, now, null, null, null, null, 0);
      if (withQueue) queue.run(id, now);
    }
    raw.exec('COMMIT');
    return id; // the last row's
  };
}

/** Inserts rows in batches for `ms` or until `rows` rows; returns rows/s and bytes written per row. */
function measureInserts(insertBatch, batch, limit) {
  const before = writeBytes();
  const start = performance.now();
  let rows = 0;
  while (
    (limit.rows === undefined || rows < limit.rows) &&
    (limit.ms === undefined || performance.now() - start < limit.ms)
  ) {
    const n = limit.rows === undefined ? batch : Math.min(batch, limit.rows - rows);
    insertBatch(n);
    rows += n;
  }
  const seconds = (performance.now() - start) / 1000;
  const bytes = (writeBytes() ?? 0) - (before ?? 0);
  return { rows, rowsPerSecond: rows / seconds, bytesPerRow: bytes / rows };
}

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, leaves: number, batches: number[], batchMs: number, proofs: number, receipts: number, coldReceipts: number }} size
 */
export async function benchLog(report, size) {
  const file = path.join(size.dir, 'log.sqlite3');
  const env = {
    API_DB_URL: `sqlite://${file}`,
    FIELDPROOF_DATA_DIR: path.join(size.dir, 'log-data'),
    LOG_LEVEL: 'silent',
    KEEPER_HTTP_PORT: '0',
  };
  const { config, secrets } = loadConfig(env, size.dir);
  const open = () => createDatabase(config.database.target, { sqlite: config.database.sqlite });
  const ceilingFile = path.join(size.dir, 'ceiling.sqlite3');
  for (const target of [file, ceilingFile]) {
    const { config: c } = loadConfig({ ...env, API_DB_URL: `sqlite://${target}` }, size.dir);
    const database = createDatabase(c.database.target, { sqlite: c.database.sqlite });
    await migrate(database);
    await database.close();
  }

  // 1. The ceiling: the same rows through better-sqlite3 directly, opened by the same function the product
  //    uses (WAL, foreign_keys verified ON, busy timeout, synchronous FULL). One figure per transaction
  //    size: 1 row (an fsync per row) and each intake concurrency (the most a group commit can gather with
  //    that many requests in flight), timed, on a file of their own; then the group commit's maximum,
  //    which also fills the sequencer's queue with exactly `leaves` rows.
  const byBatch = new Map();
  const scratch = openSqlite(ceilingFile, config.database.sqlite);
  const pragmas = readPragmas(scratch);
  const scratchInsert = rawInserter(scratch, digestSource());
  for (const batch of [1, ...size.batches.filter((b) => b > 1 && b < GROUP_COMMIT_BATCH)]) {
    byBatch.set(batch, measureInserts(scratchInsert, batch, { ms: size.batchMs }));
  }
  scratch.close();
  // The same, with the sequence_queue row each digest wrote before migration 0007, on a file of its own.
  const queueFile = path.join(size.dir, 'ceiling-0006.sqlite3');
  {
    const { config: c } = loadConfig({ ...env, API_DB_URL: `sqlite://${queueFile}` }, size.dir);
    const database = createDatabase(c.database.target, { sqlite: c.database.sqlite });
    await migrate(database);
    await database.close();
  }
  const byBatch0006 = new Map();
  const scratch0006 = openSqlite(queueFile, config.database.sqlite);
  scratch0006.exec('DROP TRIGGER sequence_queue_closed');
  const insert0006 = rawInserter(scratch0006, digestSource(), { withQueue: true });
  for (const batch of [1, ...size.batches.filter((b) => b > 1 && b < GROUP_COMMIT_BATCH)]) {
    byBatch0006.set(batch, measureInserts(insert0006, batch, { ms: size.batchMs }));
  }
  scratch0006.close();
  const raw = openSqlite(file, config.database.sqlite);
  const batched = measureInserts(rawInserter(raw, digestSource()), GROUP_COMMIT_BATCH, { rows: size.leaves });
  byBatch.set(GROUP_COMMIT_BATCH, batched);
  raw.close();
  const one = byBatch.get(1);
  report.details.dbCeiling = {
    pragmas,
    byBatch: Object.fromEntries(byBatch),
    byBatchWithQueueRow: Object.fromEntries(byBatch0006),
  };
  for (const [batch, m] of byBatch0006) {
    const now = byBatch.get(batch);
    report.add({
      section: 'database ceiling',
      measure: `bytes written per row, ${batch} row${batch === 1 ? '' : 's'}/tx`,
      value: now.bytesPerRow,
      unit: 'B',
      peer: 'same + sequence_queue row (0006)',
      peerValue: m.bytesPerRow,
      ratio: ratio(now.bytesPerRow, m.bytesPerRow),
      note:
        batch === 1
          ? `rows/s at 1 row/tx: ${Math.round(now.rowsPerSecond)} (evidence row) vs ${Math.round(m.rowsPerSecond)} (with its queue row, as the api wrote before migration 0007)`
          : `rows/s: ${Math.round(now.rowsPerSecond)} vs ${Math.round(m.rowsPerSecond)} with the queue row`,
    });
  }
  for (const [batch, m] of byBatch) {
    if (batch === 1) continue;
    report.add({
      section: 'database ceiling',
      measure: `raw better-sqlite3 inserts, ${batch} rows/tx`,
      value: m.rowsPerSecond,
      unit: 'rows/s',
      peer: 'same, 1 row/tx',
      peerValue: one.rowsPerSecond,
      ratio: ratio(m.rowsPerSecond, one.rowsPerSecond),
      note:
        batch === GROUP_COMMIT_BATCH
          ? `a row = one evidence insert (what the api writes per digest on SQLite since migration 0007); BEGIN IMMEDIATE … COMMIT; PRAGMAs read back: journal_mode=${pragmas.journalMode}, synchronous=${pragmas.synchronous} (2 = FULL), foreign_keys=${pragmas.foreignKeys}; ${Math.round(one.rowsPerSecond)} commits/s at 1 row/tx ≈ ${(1000 / one.rowsPerSecond).toFixed(1)} ms per durable commit`
          : undefined,
    });
  }
  report.add({
    section: 'database ceiling',
    measure: `bytes written per row, ${GROUP_COMMIT_BATCH} rows/tx`,
    value: batched.bytesPerRow,
    unit: 'B',
    peer: 'same, 1 row/tx',
    peerValue: one.bytesPerRow,
    ratio: ratio(batched.bytesPerRow, one.bytesPerRow),
    note: 'write_bytes of /proc/self/io during the inserts ÷ rows (WAL frames, checkpoints into the main file)',
  });

  // 2. The sequencer, as the keeper builds it, draining every queued row.
  const database = open();
  const deps = {
    database,
    config,
    secrets,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    now: Date.now,
  };
  const device = await openDeviceIdentity(deps);
  const queued = await readSequenceQueue(database.db, Number.MAX_SAFE_INTEGER);
  const compute = sequencerComputeOnly(queued, device, config.keeper.sequenceBatchMax);
  const sequencer = createSequencer(deps, device);
  const writtenBefore = writeBytes();
  const start = performance.now();
  let rounds = 0;
  while (await sequencer.runOnce()) rounds++;
  const seconds = (performance.now() - start) / 1000;
  const sequencerBytes = (writeBytes() ?? 0) - (writtenBefore ?? 0);
  const treeSize = sequencer.lastBatch?.treeSize ?? 0;
  if (treeSize !== queued.length) throw new Error(`sequenced ${treeSize} leaves, expected ${queued.length}`);
  if (compute.rootHash !== sequencer.lastBatch?.rootHash)
    throw new Error('compute-only root differs from the log');
  const leavesPerSecond = treeSize / seconds;
  report.add({
    section: 'log (SQLite)',
    measure: `sequencer, ${treeSize.toLocaleString('en-US')} queued rows, runOnce until drained`,
    value: leavesPerSecond,
    unit: 'leaves/s',
    peer: 'its CPU work alone (no db)',
    peerValue: compute.leavesPerSecond,
    ratio: ratio(leavesPerSecond, compute.leavesPerSecond),
    target: '≥ 80,000 leaves/s',
    met: leavesPerSecond >= 80_000,
    note: `${rounds} batches of ≤ ${config.keeper.sequenceBatchMax} (KEEPER_SEQUENCE_BATCH_MAX); peer = leafHashOf + appendToFrontier + signCheckpoint on the same rows`,
  });
  report.add({
    section: 'log (SQLite)',
    measure: 'sequencer, same run',
    value: leavesPerSecond,
    unit: 'leaves/s',
    peer: `raw inserts, ${GROUP_COMMIT_BATCH}/tx (ceiling)`,
    peerValue: batched.rowsPerSecond,
    peerUnit: 'rows/s',
    ratio: ratio(leavesPerSecond, batched.rowsPerSecond),
    note: 'the raw insert rate of the evidence rows, for scale (the sequencer reads evidence by rowid and writes leaves + nodes + checkpoint; no queue rows to delete on SQLite since migration 0007)',
  });

  // 3. Proofs from the database vs from an in-memory tree of the same leaves.
  const leafRows = await database.db
    .selectFrom('log_leaves')
    .select('leaf_hash')
    .orderBy('leaf_index')
    .execute();
  const memory = new MemoryTree();
  memory.append(leafRows.map((r) => fromHex(r.leaf_hash)));
  const pick = mulberry(7);
  const indices = Array.from({ length: size.proofs }, () => Math.floor(pick() * treeSize));
  const fromSizes = indices.map((i) => Math.max(1, i));
  const sample = await inclusionProofFor(database.db, indices[0], treeSize);
  const expected = memory.inclusionProof(indices[0], treeSize);
  if (sample.length !== expected.length || sample.some((h, k) => Buffer.compare(h, expected[k]) !== 0)) {
    throw new Error('inclusion proof from the database differs from the in-memory tree');
  }
  const dbInclusion = await asyncPerSecond(size.proofs, (k) =>
    inclusionProofFor(database.db, indices[k], treeSize),
  );
  const memInclusion = syncPerSecond(size.proofs, (k) => memory.inclusionProof(indices[k], treeSize));
  const dbConsistency = await asyncPerSecond(size.proofs, (k) =>
    consistencyProofFor(database.db, fromSizes[k], treeSize),
  );
  // A ceiling for proofs from the database: the same nodes read with two cached prepared statements (one
  // primary-key read per node) on the same connection, then the same buildProof.
  const leafStmt = database.sqlite.prepare('SELECT leaf_hash AS hash FROM log_leaves WHERE leaf_index = ?');
  const nodeStmt = database.sqlite.prepare('SELECT hash FROM log_nodes WHERE level = ? AND node_index = ?');
  const lookup = (level, index) => {
    const row = level === 0 ? leafStmt.get(index) : nodeStmt.get(level, index);
    return row === undefined ? undefined : fromHex(row.hash);
  };
  const rawInclusion = syncPerSecond(size.proofs, (k) =>
    buildProof(inclusionProofNodes(indices[k], treeSize), lookup),
  );
  const rawConsistency = syncPerSecond(size.proofs, (k) =>
    buildProof(consistencyProofNodes(fromSizes[k], treeSize), lookup),
  );
  const memConsistency = syncPerSecond(size.proofs, (k) => memory.consistencyProof(fromSizes[k], treeSize));
  const proofTarget = '≥ 15,000/s';
  report.add({
    section: 'log (SQLite)',
    measure: `inclusion proofs from the db, tree of ${treeSize.toLocaleString('en-US')}`,
    value: dbInclusion,
    unit: 'proofs/s',
    peer: 'same proofs, in-memory tree',
    peerValue: memInclusion,
    ratio: ratio(dbInclusion, memInclusion),
    target: proofTarget,
    met: dbInclusion >= 15_000,
  });
  report.add({
    section: 'log (SQLite)',
    measure: 'inclusion proofs from the db, same run',
    value: dbInclusion,
    unit: 'proofs/s',
    peer: 'same nodes, cached prepared statements',
    peerValue: rawInclusion,
    ratio: ratio(dbInclusion, rawInclusion),
    note: 'peer: one primary-key read per proof node through two better-sqlite3 statements prepared once, then the same buildProof',
  });
  report.add({
    section: 'log (SQLite)',
    measure: 'consistency proofs from the db',
    value: dbConsistency,
    unit: 'proofs/s',
    peer: 'same proofs, in-memory tree',
    peerValue: memConsistency,
    ratio: ratio(dbConsistency, memConsistency),
    target: proofTarget,
    met: dbConsistency >= 15_000,
  });
  report.add({
    section: 'log (SQLite)',
    measure: 'consistency proofs from the db, same run',
    value: dbConsistency,
    unit: 'proofs/s',
    peer: 'same nodes, cached prepared statements',
    peerValue: rawConsistency,
    ratio: ratio(dbConsistency, rawConsistency),
  });

  // 4. Receipts: built from the database (the api's receiptFor path, which verifies before returning), then
  //    verified offline. "warm": receipts of one checkpoint, whose signature the verifier checks once;
  //    "cold": each receipt against a different signed checkpoint, so every one pays an Ed25519 verify.
  // fieldproof-receipt/v1 here (this table's history); the receipts section compares v2 with it.
  const reader = await createReceiptReader(database.db, { format: 'fieldproof-receipt/v1' });
  const rows = [];
  for (let k = 0; k < size.receipts; k++) {
    const leaf = await getLeafByIndex(database.db, indices[k % indices.length]);
    rows.push(await findEvidenceWithLeaf(database.db, leaf.evidence_id));
  }
  const receipts = new Array(rows.length);
  const built = await asyncPerSecond(rows.length, async (k) => {
    receipts[k] = await reader.receiptOf(rows[k]);
  });
  const warm = syncPerSecond(receipts.length, (k) => {
    if (!verifyReceiptOffline(receipts[k]).ok) throw new Error('a receipt did not verify');
  });
  const inclusionOnly = syncPerSecond(receipts.length, (k) => {
    const r = receipts[k];
    verifyInclusion(
      r.leaf.leafIndex,
      r.inclusion.treeSize,
      fromHex(r.leaf.leafHash),
      r.inclusion.proof.map(fromHex),
      fromHex(r.checkpoint.root),
    );
  });
  const cold = [];
  for (let j = 0; j < size.coldReceipts; j++) {
    const s = treeSize - j;
    const i = Math.floor(pick() * s);
    const leaf = await getLeafByIndex(database.db, i);
    const row = await findEvidenceWithLeaf(database.db, leaf.evidence_id);
    cold.push(
      buildReceipt({
        evidence: evidenceRecordOf(row),
        leafIndex: i,
        inclusionProof: await inclusionProofFor(database.db, i, s),
        checkpointNote: signCheckpoint(
          { origin: device.origin, treeSize: s, root: memory.root(s) },
          device.key,
        ),
        devicePublicKey: device.verifierKey,
        format: 'fieldproof-receipt/v1',
      }),
    );
  }
  const coldRate = syncPerSecond(cold.length, (k) => {
    if (!verifyReceiptOffline(cold[k]).ok) throw new Error('a cold receipt did not verify');
  });
  const ed = ed25519VerifyRate(cold[0].checkpoint.note, Math.max(200, size.coldReceipts));
  const receiptTarget = '≥ 5,000/s';
  report.add({
    section: 'receipts',
    measure: 'verifyReceiptOffline, receipts of one checkpoint',
    value: warm,
    unit: 'receipts/s',
    peer: 'verifyInclusion alone (same proofs)',
    peerValue: inclusionOnly,
    peerUnit: 'proofs/s',
    ratio: ratio(warm, inclusionOnly),
    target: receiptTarget,
    met: warm >= 5_000,
    note: 'the signature of a checkpoint note is verified once and remembered (receipt package cache); the rest is format, leaf encoding and inclusion',
  });
  report.add({
    section: 'receipts',
    measure: 'verifyReceiptOffline, each on its own checkpoint',
    value: coldRate,
    unit: 'receipts/s',
    peer: 'node:crypto Ed25519 verify alone',
    peerValue: ed,
    peerUnit: 'verifies/s',
    ratio: ratio(coldRate, ed),
    target: receiptTarget,
    met: coldRate >= 5_000,
    note: `${cold.length} receipts, ${cold.length} distinct signed checkpoints (more than the 256-entry signature cache)`,
  });
  report.add({
    section: 'receipts',
    measure: 'receipts built from the db (receiptOf, verifies before returning)',
    value: built,
    unit: 'receipts/s',
    peer: 'inclusion proofs from the db',
    peerValue: dbInclusion,
    peerUnit: 'proofs/s',
    ratio: ratio(built, dbInclusion),
  });
  report.details.log = {
    treeSize,
    sequencer: { rounds, seconds, leavesPerSecond, bytesWrittenPerLeaf: sequencerBytes / treeSize },
    sequencerComputeOnly: compute,
    proofsPerSecond: {
      dbInclusion,
      memInclusion,
      rawInclusion,
      dbConsistency,
      memConsistency,
      rawConsistency,
    },
    receipts: {
      built,
      warm,
      cold: coldRate,
      inclusionOnly,
      ed25519Verify: ed,
      counts: { warm: receipts.length, cold: cold.length },
    },
  };
  await database.close();
  return {
    dbCeiling: byBatch,
    sequencer: { leavesPerSecond, bytesPerLeaf: sequencerBytes / treeSize },
  };
}

/** The sequencer's CPU work on `queued` (leaf hashes, frontier appends, one signed checkpoint per batch). */
function sequencerComputeOnly(queued, device, batchMax) {
  const start = performance.now();
  let frontier = [];
  let treeSize = 0;
  let root;
  for (let i = 0; i < queued.length; i += batchMax) {
    const chunk = queued.slice(i, i + batchMax);
    const hashes = chunk.map((q) => leafHashOf(evidenceRecordOf(q)));
    const appended = appendToFrontier(frontier, treeSize, hashes);
    frontier = appended.frontier;
    treeSize = appended.treeSize;
    root = rootFromFrontier(frontier);
    signCheckpoint({ origin: device.origin, treeSize, root }, device.key);
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    leaves: treeSize,
    seconds,
    leavesPerSecond: treeSize / seconds,
    rootHash: root === undefined ? undefined : Buffer.from(root).toString('hex'),
  };
}

function ed25519VerifyRate(message, count) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const data = Buffer.from(message);
  const signature = sign(null, data, privateKey);
  return syncPerSecond(count, () => {
    if (!verify(null, data, publicKey, signature)) throw new Error('ed25519 verify failed');
  });
}

function syncPerSecond(count, fn) {
  const start = performance.now();
  for (let k = 0; k < count; k++) fn(k);
  return count / ((performance.now() - start) / 1000);
}

/** Awaits `fn(k)` one after the other (a client asking for one proof at a time). */
async function asyncPerSecond(count, fn) {
  const start = performance.now();
  for (let k = 0; k < count; k++) await fn(k);
  return count / ((performance.now() - start) / 1000);
}

/** A small seeded PRNG, so that runs pick the same indices. */
function mulberry(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
