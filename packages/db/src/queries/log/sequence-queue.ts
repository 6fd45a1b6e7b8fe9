import { CompiledQuery } from 'kysely';
import type { Kysely } from 'kysely';
import { engineOf } from '../../database.js';
import type { Schema } from '../../schema/schema.js';
import { runBulk } from '../bulk-statement.js';
import type { BulkStatement } from '../bulk-statement.js';
import { LEAF_COLUMNS } from './leaf-columns.js';
import type { LeafEvidence } from './leaf-columns.js';

// What waits to be sequenced ("the queue", "the backlog"):
// - PostgreSQL: the rows of `sequence_queue`, written with each evidence row in the same transaction and
//   deleted by the sequencer. (Transactions commit out of id order, so only an explicit queue is
//   exactly-once there.)
// - SQLite (migration 0007): leftover `sequence_queue` rows written before that migration, then every
//   evidence row whose rowid is above the sequencer's watermark. One writer at a time and an append-only
//   table make rowid order commit order: a row committed later always has a larger rowid.

/** A record waiting to be sequenced: its leaf columns, and where it was read from. */
export type QueuedEvidence = LeafEvidence & {
  /** Read from `sequence_queue` (its row must be deleted with the leaf); false: by rowid (SQLite). */
  readonly fromQueue: boolean;
};

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
    return rows[0]?.queued === 1;
  }
  const row = await db.selectFrom('sequence_queue').select('evidence_id').limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Number of evidence records waiting to be sequenced (the sequence backlog). */
export async function countQueuedEvidence(db: Kysely<Schema>): Promise<number> {
  if (engineOf(db) === 'sqlite') {
    const { rows } = await db.executeQuery<{ n: number }>(CompiledQuery.raw(SQLITE_COUNT_AFTER_WATERMARK));
    return rows[0]?.n ?? 0;
  }
  // count(*) is a BIGINT: the pool parses it to a number (create-postgres-pool.ts).
  const row = await db
    .selectFrom('sequence_queue')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
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

const INSERT_QUEUE: BulkStatement<{ readonly id: string; readonly received_at: number }> = {
  name: 'sequence_queue.insert',
  maxRows: 512,
  build: (db, n) =>
    db
      .insertInto('sequence_queue')
      .values(new Array(n).fill({ evidence_id: null, enqueued_at: null }) as never[]),
  values: (r) => [r.id, r.received_at],
};

/**
 * Queues evidence rows for sequencing, in the caller's transaction: a `sequence_queue` row each on
 * PostgreSQL; nothing on SQLite, where the sequencer reads evidence by rowid (migration 0007).
 */
export async function enqueueEvidence(
  trx: Kysely<Schema>,
  rows: readonly { readonly id: string; readonly received_at: number }[],
): Promise<void> {
  if (engineOf(trx) === 'sqlite') return;
  await runBulk(trx, INSERT_QUEUE, rows);
}

const DELETE_QUEUED: BulkStatement<string> = {
  name: 'sequence_queue.delete',
  maxRows: 1024,
  build: (db, n) => db.deleteFrom('sequence_queue').where('evidence_id', 'in', new Array<string>(n).fill('')),
  values: (id) => [id],
};

/**
 * Removes sequenced records from the queue, by exact id. (Never by id range: on PostgreSQL an api
 * transaction may commit a smaller UUIDv7 after the queue was read, and that row must stay queued.)
 */
export async function deleteQueuedEvidence(
  trx: Kysely<Schema>,
  evidenceIds: readonly string[],
): Promise<void> {
  await runBulk(trx, DELETE_QUEUED, evidenceIds);
}
