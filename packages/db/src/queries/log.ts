import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import { engineOf, idleSqliteHandle } from '../database.js';
import type { Database, EngineCapabilities } from '../database.js';
import type { LogCheckpointTable, LogLeafTable } from '../schema/log-tables.js';
import type { Schema } from '../schema/schema.js';
import type { EvidenceRow } from './evidence.js';

/**
 * Queries of the verifiable log: the sequence queue, leaves (level 0), perfect nodes (level ≥ 1),
 * checkpoints and the sequencer's mutual exclusion. Hashes are 64 lowercase hex characters here, as
 * everywhere in the database; converting to bytes is the caller's business.
 *
 * Bulk writes are multi-row INSERTs in chunks of {@link LOG_INSERT_CHUNK} rows: one statement per chunk
 * instead of one per row, and small enough for every engine's bound-parameter limit (SQLite 32 766,
 * PostgreSQL 65 535).
 */

/** Rows per multi-row statement. 4 columns × 1000 rows = 4000 parameters: far below both engines' limits. */
export const LOG_INSERT_CHUNK = 1000;

/**
 * An evidence record's leaf columns: the evidence columns its leaf is made of (`evidenceRecordOf` in
 * @fieldproof/receipt maps them to the leaf record).
 */
export type LeafEvidence = Pick<EvidenceRow, (typeof LEAF_COLUMNS)[number]>;

/** A record waiting to be sequenced: its leaf columns, and where it was read from. */
export type QueuedEvidence = LeafEvidence & {
  /** Read from `sequence_queue` (its row must be deleted with the leaf); false: by rowid (SQLite). */
  readonly fromQueue: boolean;
};

/** The evidence columns a leaf is made of (fieldproof-leaf/v1 and v2). */
export const LEAF_COLUMNS = [
  'id',
  'digest',
  'kind',
  'occurred_at',
  'received_at',
  'payload_mime',
  'metadata',
  'leaf_version',
  'not_before_chain_id',
  'not_before_number',
  'not_before_hash',
  'not_before_timestamp',
  'clock_suspect',
] as const satisfies readonly (keyof EvidenceRow)[];

/** A perfect node's position: covers leaves `[index·2^level, (index+1)·2^level)`; level 0 is a leaf. */
export interface LogNodeId {
  readonly level: number;
  readonly index: number;
}

/** A perfect node with its hash (hex). */
export interface LogNode extends LogNodeId {
  readonly hash: string;
}

export interface NewLeaf {
  readonly leafIndex: number;
  readonly evidenceId: string;
  readonly leafHash: string;
  readonly sequencedAt: number;
}

export interface NewCheckpoint {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly origin: string;
  readonly signedNote: string;
  readonly createdAt: number;
}

export type LogLeafRow = Selectable<LogLeafTable>;
export type LogCheckpointRow = Selectable<LogCheckpointTable>;

// ---------------------------------------------------------------------------------------------------
// Sequence queue
//
// What waits to be sequenced ("the queue", "the backlog"):
// - PostgreSQL: the rows of `sequence_queue`, written with each evidence row in the same transaction and
//   deleted by the sequencer. (Transactions commit out of id order, so only an explicit queue is
//   exactly-once there.)
// - SQLite (migration 0007): leftover `sequence_queue` rows written before that migration, then every
//   evidence row whose rowid is above the sequencer's watermark. One writer at a time and an append-only
//   table make rowid order commit order: a row committed later always has a larger rowid.

/** `log_meta` name of the last evidence id written before migration 0007 (SQLite). */
export const SEQUENCE_ROWID_BASE = 'sequence_rowid_base';

/**
 * SQLite: the sequencer's watermark, a scalar expression: the larger of the rowid of the evidence behind
 * the newest leaf and the rowid of the base row migration 0007 recorded. Both are looked up by evidence id
 * (two primary-key reads), so a VACUUM that renumbers rowids (in order) does not move it.
 */
const SQLITE_WATERMARK = `max(
  coalesce((SELECT rowid FROM evidence WHERE id = (SELECT value FROM log_meta WHERE name = '${SEQUENCE_ROWID_BASE}')), 0),
  coalesce((SELECT rowid FROM evidence WHERE id = (SELECT evidence_id FROM log_leaves ORDER BY leaf_index DESC LIMIT 1)), 0))`;

const SQLITE_HAS_AFTER_WATERMARK = `SELECT EXISTS (SELECT 1 FROM sequence_queue)
  OR EXISTS (SELECT 1 FROM evidence WHERE rowid > ${SQLITE_WATERMARK}) AS queued`;

const SQLITE_COUNT_AFTER_WATERMARK = `SELECT (SELECT count(*) FROM sequence_queue)
  + (SELECT count(*) FROM evidence WHERE rowid > ${SQLITE_WATERMARK}) AS n`;

const SQLITE_READ_AFTER_WATERMARK = `SELECT ${LEAF_COLUMNS.join(', ')}
FROM evidence WHERE rowid > ${SQLITE_WATERMARK} ORDER BY rowid LIMIT ?`;

/**
 * Whether any evidence waits to be sequenced. A plain read of a few rows: no write lock, so an idle
 * keeper can poll it without slowing the api's commits.
 */
export async function hasQueuedEvidence(db: Kysely<Schema>): Promise<boolean> {
  if (engineOf(db) === 'sqlite') {
    const { rows } = await db.executeQuery<{ queued: number }>(CompiledQuery.raw(SQLITE_HAS_AFTER_WATERMARK));
    return Number(rows[0]?.queued) === 1;
  }
  const row = await db.selectFrom('sequence_queue').select('evidence_id').limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Number of evidence records waiting to be sequenced (the sequence backlog). */
export async function countQueuedEvidence(db: Kysely<Schema>): Promise<number> {
  if (engineOf(db) === 'sqlite') {
    const { rows } = await db.executeQuery<{ n: number }>(CompiledQuery.raw(SQLITE_COUNT_AFTER_WATERMARK));
    return Number(rows[0]?.n ?? 0);
  }
  const row = await db
    .selectFrom('sequence_queue')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Up to `limit` records waiting to be sequenced, with their leaf fields: `sequence_queue` rows in
 * evidence id (UUIDv7 intake) order first; then, on SQLite, evidence after the watermark in rowid
 * (commit) order. One batch never mixes the two (`fromQueue` says which it is).
 */
export async function readSequenceQueue(db: Kysely<Schema>, limit: number): Promise<QueuedEvidence[]> {
  const rows = await db
    .selectFrom('sequence_queue as q')
    .innerJoin('evidence as e', 'e.id', 'q.evidence_id')
    .select(LEAF_COLUMNS.map((c) => `e.${c}` as const))
    .orderBy('q.evidence_id')
    .limit(limit)
    .execute();
  if (rows.length > 0 || engineOf(db) !== 'sqlite') return markedFrom(rows, true);
  const after = await db.executeQuery<LeafEvidence>(CompiledQuery.raw(SQLITE_READ_AFTER_WATERMARK, [limit]));
  return markedFrom(after.rows, false);
}

/**
 * The rows just read, each marked with where it came from — in place: they are fresh objects of this
 * read, and a copy of each (`{ ...r, fromQueue }`) was 8 % of a sequenced batch's CPU time (issue 13).
 */
function markedFrom(rows: readonly LeafEvidence[], fromQueue: boolean): QueuedEvidence[] {
  for (const r of rows) (r as { fromQueue?: boolean }).fromQueue = fromQueue;
  return rows as QueuedEvidence[];
}

/**
 * Queues evidence rows for sequencing, in the caller's transaction: a `sequence_queue` row each on
 * PostgreSQL; nothing on SQLite, where the sequencer reads evidence by rowid (migration 0007).
 */
export async function enqueueEvidence(
  trx: Kysely<Schema>,
  rows: readonly { readonly id: string; readonly received_at: number }[],
): Promise<void> {
  if (engineOf(trx) === 'sqlite') return;
  for (const chunk of chunks(rows, LOG_INSERT_CHUNK)) {
    await trx
      .insertInto('sequence_queue')
      .values(chunk.map((r) => ({ evidence_id: r.id, enqueued_at: r.received_at })))
      .execute();
  }
}

/**
 * Removes sequenced records from the queue, by exact id. (Never by id range: on PostgreSQL an api
 * transaction may commit a smaller UUIDv7 after the queue was read, and that row must stay queued.)
 */
export async function deleteQueuedEvidence(
  db: Kysely<Schema>,
  evidenceIds: readonly string[],
): Promise<void> {
  for (const chunk of chunks(evidenceIds, LOG_INSERT_CHUNK)) {
    await db.deleteFrom('sequence_queue').where('evidence_id', 'in', chunk).execute();
  }
}

// ---------------------------------------------------------------------------------------------------
// Leaves and nodes

/** Inserts leaves (level 0) in multi-row chunks. */
export async function insertLeaves(db: Kysely<Schema>, leaves: readonly NewLeaf[]): Promise<void> {
  for (const chunk of chunks(leaves, LOG_INSERT_CHUNK)) {
    await db
      .insertInto('log_leaves')
      .values(
        chunk.map((l) => ({
          leaf_index: l.leafIndex,
          evidence_id: l.evidenceId,
          leaf_hash: l.leafHash,
          sequenced_at: l.sequencedAt,
        })),
      )
      .execute();
  }
}

/** Inserts perfect nodes of level ≥ 1 in multi-row chunks. */
export async function insertNodes(db: Kysely<Schema>, nodes: readonly LogNode[]): Promise<void> {
  for (const chunk of chunks(nodes, LOG_INSERT_CHUNK)) {
    await db
      .insertInto('log_nodes')
      .values(chunk.map((n) => ({ level: n.level, node_index: n.index, hash: n.hash })))
      .execute();
  }
}

/**
 * The stored perfect nodes among `ids`, in ONE query: level 0 from `log_leaves`, levels ≥ 1 from
 * `log_nodes`, each looked up by primary key. Use it for the frontier (`frontierNodes(treeSize)`, one id
 * per set bit of the size) and for proofs (`inclusionProofNodes(...).flat()`): O(log n) rows either way.
 * Ids not stored are simply absent from the result. Order of the result is unspecified.
 */
export async function getNodes(db: Kysely<Schema>, ids: readonly LogNodeId[]): Promise<LogNode[]> {
  const leafIndices = unique(ids.filter((id) => id.level === 0).map((id) => id.index));
  const inner = ids.filter((id) => id.level > 0);
  if (leafIndices.length === 0 && inner.length === 0) return [];
  // Hot path (every proof, every sequenced batch): one statement whose text never changes, with the ids
  // passed as parameters, so neither kysely nor the engine re-plans an OR of log n terms each time.
  const sqlite = engineOf(db) === 'sqlite';
  const params = sqlite
    ? [JSON.stringify(leafIndices), JSON.stringify(inner.map((id) => [id.level, id.index]))]
    : [leafIndices, inner.map((id) => id.level), inner.map((id) => id.index)];
  // Outside a transaction, on SQLite, straight on the handle with a statement prepared once: a proof is
  // this one read, and kysely's pipeline cost more than the read itself (idleSqliteHandle).
  const handle = sqlite ? idleSqliteHandle(db) : undefined;
  const rows =
    handle === undefined
      ? (
          await db.executeQuery<NodeRow>(
            CompiledQuery.raw(sqlite ? SQLITE_GET_NODES : POSTGRES_GET_NODES, params),
          )
        ).rows
      : (getNodesStatement(handle).all(...params) as NodeRow[]);
  return rows.map((r) => ({ level: Number(r.level), index: Number(r.node_index), hash: r.hash }));
}

type NodeRow = { level: number; node_index: number; hash: string };

const getNodesStatements = new WeakMap<BetterSqlite3.Database, BetterSqlite3.Statement>();

function getNodesStatement(handle: BetterSqlite3.Database): BetterSqlite3.Statement {
  let stmt = getNodesStatements.get(handle);
  if (stmt === undefined) {
    stmt = handle.prepare(SQLITE_GET_NODES);
    getNodesStatements.set(handle, stmt);
  }
  return stmt;
}

/** getNodes on SQLite: the ids arrive as JSON arrays ([index…] and [[level, index]…]). */
const SQLITE_GET_NODES = `SELECT 0 AS level, leaf_index AS node_index, leaf_hash AS hash
FROM log_leaves WHERE leaf_index IN (SELECT value FROM json_each(?))
UNION ALL
SELECT n.level, n.node_index, n.hash
FROM json_each(?) AS j
JOIN log_nodes AS n ON n.level = j.value ->> 0 AND n.node_index = j.value ->> 1`;

/** getNodes on PostgreSQL: the ids arrive as arrays. */
const POSTGRES_GET_NODES = `SELECT 0 AS level, leaf_index AS node_index, leaf_hash AS hash
FROM log_leaves WHERE leaf_index = ANY($1::bigint[])
UNION ALL
SELECT n.level, n.node_index, n.hash
FROM unnest($2::int[], $3::bigint[]) AS j(level, node_index)
JOIN log_nodes AS n ON n.level = j.level AND n.node_index = j.node_index`;

/** The leaf of an evidence record, if it has been sequenced. */
export async function getLeafByEvidenceId(
  db: Kysely<Schema>,
  evidenceId: string,
): Promise<LogLeafRow | undefined> {
  return db.selectFrom('log_leaves').selectAll().where('evidence_id', '=', evidenceId).executeTakeFirst();
}

/** The leaf at `leafIndex`, if any. */
export async function getLeafByIndex(db: Kysely<Schema>, leafIndex: number): Promise<LogLeafRow | undefined> {
  return db.selectFrom('log_leaves').selectAll().where('leaf_index', '=', leafIndex).executeTakeFirst();
}

/** Number of leaves stored: max(leaf_index) + 1, read from the primary key's last entry. */
export async function countLeaves(db: Kysely<Schema>): Promise<number> {
  const row = await db
    .selectFrom('log_leaves')
    .select('leaf_index')
    .orderBy('leaf_index', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? 0 : Number(row.leaf_index) + 1;
}

// ---------------------------------------------------------------------------------------------------
// The sequencer's bulk writes

/** The sequencer's three bulk writes, each run inside the caller's write transaction `trx`. */
export interface LogAppender {
  insertLeaves(trx: Kysely<Schema>, leaves: readonly NewLeaf[]): Promise<void>;
  insertNodes(trx: Kysely<Schema>, nodes: readonly LogNode[]): Promise<void>;
  deleteQueuedEvidence(trx: Kysely<Schema>, evidenceIds: readonly string[]): Promise<void>;
}

/** Rows per cached multi-row prepared statement on SQLite (measured: 100 rows ≈ 2× single-row inserts). */
const SQLITE_BULK_ROWS = 100;

/**
 * The sequencer's bulk writes for `database`.
 *
 * PostgreSQL: the kysely multi-row statements above (one round trip per chunk).
 *
 * SQLite: raw SQL, because here kysely is the bottleneck: it compiles a fresh query tree and
 * better-sqlite3 prepares a fresh statement for every chunk, which costs as much as the inserts
 * themselves. Instead, statements of {@link SQLITE_BULK_ROWS} rows (plus a one-row statement for the
 * tail) are prepared once and reused. They run on the database's single better-sqlite3 connection, the
 * one kysely's transaction runs on, so they are part of the caller's transaction; `trx` itself is not
 * used, and calling outside a transaction throws.
 */
export function createLogAppender(database: Database): LogAppender {
  const handle = database.sqlite;
  if (handle === undefined) return { insertLeaves, insertNodes, deleteQueuedEvidence };
  const leafSql = 'INSERT INTO log_leaves (leaf_index, evidence_id, leaf_hash, sequenced_at) VALUES ';
  const nodeSql = 'INSERT INTO log_nodes (level, node_index, hash) VALUES ';
  const deleteSql = 'DELETE FROM sequence_queue WHERE evidence_id IN ';
  const bulk = <T>(
    sqlFor: (rows: number) => string,
    params: (row: T) => unknown[],
  ): ((rows: readonly T[]) => void) => {
    const many = handle.prepare(sqlFor(SQLITE_BULK_ROWS));
    const one = handle.prepare(sqlFor(1));
    return (rows) => {
      if (!handle.inTransaction) throw new Error('bug: log appender used outside a write transaction');
      let i = 0;
      for (; i + SQLITE_BULK_ROWS <= rows.length; i += SQLITE_BULK_ROWS) {
        // One flat argument list, filled by index (slice + flatMap cost a copy and an array per row).
        const args: unknown[] = [];
        let k = 0;
        for (let j = i; j < i + SQLITE_BULK_ROWS; j++) {
          const row = params(rows[j]!);
          for (let m = 0; m < row.length; m++) args[k++] = row[m];
        }
        many.run(args);
      }
      for (; i < rows.length; i++) one.run(params(rows[i]!));
    };
  };
  const tuples = (n: number, width: number): string =>
    Array.from({ length: n }, () => `(${Array.from({ length: width }, () => '?').join(', ')})`).join(', ');
  const leaves = bulk<NewLeaf>(
    (n) => leafSql + tuples(n, 4),
    (l) => [l.leafIndex, l.evidenceId, l.leafHash, l.sequencedAt],
  );
  const nodes = bulk<LogNode>(
    (n) => nodeSql + tuples(n, 3),
    (x) => [x.level, x.index, x.hash],
  );
  const deletes = bulk<string>(
    (n) => `${deleteSql}(${Array.from({ length: n }, () => '?').join(', ')})`,
    (id) => [id],
  );
  return {
    async insertLeaves(_trx, rows) {
      leaves(rows);
    },
    async insertNodes(_trx, rows) {
      nodes(rows);
    },
    async deleteQueuedEvidence(_trx, ids) {
      deletes(ids);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Checkpoints

export async function insertCheckpoint(db: Kysely<Schema>, checkpoint: NewCheckpoint): Promise<void> {
  await db
    .insertInto('log_checkpoints')
    .values({
      tree_size: checkpoint.treeSize,
      root_hash: checkpoint.rootHash,
      origin: checkpoint.origin,
      signed_note: checkpoint.signedNote,
      created_at: checkpoint.createdAt,
    })
    .execute();
}

/** The checkpoint of the largest tree, if any (the primary key's last entry). */
export async function getLatestCheckpoint(db: Kysely<Schema>): Promise<LogCheckpointRow | undefined> {
  const row = await db
    .selectFrom('log_checkpoints')
    .selectAll()
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : normaliseCheckpoint(row);
}

/** The checkpoint of exactly `treeSize` leaves, if one was written. */
export async function getCheckpoint(
  db: Kysely<Schema>,
  treeSize: number,
): Promise<LogCheckpointRow | undefined> {
  const row = await db
    .selectFrom('log_checkpoints')
    .selectAll()
    .where('tree_size', '=', treeSize)
    .executeTakeFirst();
  return row === undefined ? undefined : normaliseCheckpoint(row);
}

/**
 * Seconds-free building block of the "oldest unanchored leaf" metric: the `sequenced_at` of the first
 * leaf not covered by any `final` anchor (a final anchor of tree size N covers leaves 0 … N−1), or
 * undefined when every leaf is covered. Two index reads: the largest final tree size, then one leaf by
 * primary key.
 */
export async function oldestUnanchoredLeafTime(db: Kysely<Schema>): Promise<number | undefined> {
  const covered = await db
    .selectFrom('anchor_jobs')
    .select((eb) => eb.fn.max<number | string | null>('tree_size').as('size'))
    .where('state', '=', 'final')
    .executeTakeFirst();
  const leaf = await getLeafByIndex(db, Number(covered?.size ?? 0));
  return leaf === undefined ? undefined : Number(leaf.sequenced_at);
}

// ---------------------------------------------------------------------------------------------------
// The single sequencer

/** pg_try_advisory_xact_lock key of the sequencer: "fieldproof sequencer". */
export const SEQUENCER_LOCK_KEY = 7_266_047_261_540_103;

/**
 * Makes the current write transaction the only one that sequences. Call first thing inside the
 * transaction; returns false when another keeper is sequencing right now (do nothing, try later).
 *
 * - Single-writer engines (SQLite): the transaction's write lock (BEGIN IMMEDIATE) already excludes
 *   every other writer, so this is a no-op.
 * - PostgreSQL: a transaction-scoped advisory lock, taken without waiting. It is released by the
 *   engine at COMMIT/ROLLBACK or when the holder's connection dies, so it needs no expiry clock and no
 *   fencing: nothing the holder writes can outlive the lock, because the writes commit with it.
 */
export async function tryLockSequencer(
  trx: Kysely<Schema>,
  capabilities: EngineCapabilities,
): Promise<boolean> {
  if (capabilities.singleWriter) return true;
  const result = await sql<{
    locked: boolean;
  }>`SELECT pg_try_advisory_xact_lock(${SEQUENCER_LOCK_KEY}) AS locked`.execute(trx);
  return result.rows[0]?.locked === true;
}

// ---------------------------------------------------------------------------------------------------

function normaliseCheckpoint(row: LogCheckpointRow): LogCheckpointRow {
  return { ...row, tree_size: Number(row.tree_size), created_at: Number(row.created_at) };
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function unique(values: readonly number[]): number[] {
  return [...new Set(values)];
}
