import type { Kysely } from 'kysely';
import type { Schema } from '../schema/schema.js';
import { LEAF_COLUMNS, type LeafEvidence } from './log/leaf-columns.js';

/** What the unit knows of one collector: the acknowledged size and the last failure. */
export interface CollectorPushState {
  readonly collector: string;
  readonly ackedTreeSize: number;
  readonly ackedAt: number | undefined;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | undefined;
  readonly lastErrorAt: number | undefined;
  readonly stopped: boolean;
}

/** A leaf with the evidence it encodes (what a push carries). */
export interface LeafWithEvidence extends LeafEvidence {
  readonly leafIndex: number;
  readonly leafHash: string;
  readonly contentStored: boolean;
}

/** The push state of `collector`, or undefined before its first round. */
export async function getCollectorPushState(
  db: Kysely<Schema>,
  collector: string,
): Promise<CollectorPushState | undefined> {
  const row = await db
    .selectFrom('collector_push_state')
    .selectAll()
    .where('collector', '=', collector)
    .executeTakeFirst();
  return row === undefined ? undefined : toState(row);
}

/** Every collector's push state, by name. */
export async function listCollectorPushStates(db: Kysely<Schema>): Promise<CollectorPushState[]> {
  const rows = await db.selectFrom('collector_push_state').selectAll().orderBy('collector').execute();
  return rows.map(toState);
}

/** Records an acknowledgement of `treeSize` (never lowers it); clears the failure count and error. */
export async function recordCollectorAck(
  db: Kysely<Schema>,
  collector: string,
  treeSize: number,
  now: number,
): Promise<void> {
  const existing = await getCollectorPushState(db, collector);
  if (existing === undefined) {
    await db
      .insertInto('collector_push_state')
      .values({
        collector,
        acked_tree_size: treeSize,
        acked_at: now,
        attempts: 0,
        next_attempt_at: 0,
        last_error: null,
        last_error_at: null,
        stopped: 0,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('collector').doNothing())
      .execute();
    return;
  }
  await db
    .updateTable('collector_push_state')
    .set({
      acked_tree_size: Math.max(existing.ackedTreeSize, treeSize),
      acked_at: treeSize >= existing.ackedTreeSize ? now : (existing.ackedAt ?? now),
      attempts: 0,
      next_attempt_at: 0,
      last_error: null,
      last_error_at: null,
      updated_at: now,
    })
    .where('collector', '=', collector)
    .execute();
}

/** Records a failed round: the error, attempts + 1, when to try next; `stopped` for refusals no retry fixes. */
export async function recordCollectorFailure(
  db: Kysely<Schema>,
  collector: string,
  failure: { readonly error: string; readonly nextAttemptAt: number; readonly stopped: boolean },
  now: number,
): Promise<CollectorPushState> {
  const existing = await getCollectorPushState(db, collector);
  const attempts = (existing?.attempts ?? 0) + 1;
  const values: {
    attempts: number;
    next_attempt_at: number;
    last_error: string;
    last_error_at: number;
    stopped: 0 | 1;
    updated_at: number;
  } = {
    attempts,
    next_attempt_at: failure.nextAttemptAt,
    last_error: failure.error.slice(0, 2000),
    last_error_at: now,
    stopped: failure.stopped ? 1 : 0,
    updated_at: now,
  };
  if (existing === undefined) {
    await db
      .insertInto('collector_push_state')
      .values({ collector, acked_tree_size: 0, acked_at: null, ...values })
      .execute();
  } else {
    await db.updateTable('collector_push_state').set(values).where('collector', '=', collector).execute();
  }
  return (await getCollectorPushState(db, collector))!;
}

/** Stores a verified cosignature of the checkpoint of `treeSize` (a re-sent one is kept once). */
export async function storeCollectorCosignature(
  db: Kysely<Schema>,
  row: {
    readonly collector: string;
    readonly treeSize: number;
    readonly witnessKey: string;
    readonly cosignature: string;
    readonly cosignedAt: number;
    readonly storedAt: number;
  },
): Promise<void> {
  await db
    .insertInto('collector_cosignatures')
    .values({
      collector: row.collector,
      tree_size: row.treeSize,
      witness_key: row.witnessKey,
      cosignature: row.cosignature,
      cosigned_at: row.cosignedAt,
      stored_at: row.storedAt,
    })
    .onConflict((oc) => oc.columns(['collector', 'tree_size']).doNothing())
    .execute();
}

/** Stored cosignatures, by collector then tree size. */
export async function listCollectorCosignatures(
  db: Kysely<Schema>,
  collector?: string,
): Promise<
  { collector: string; treeSize: number; witnessKey: string; cosignature: string; cosignedAt: number }[]
> {
  let q = db.selectFrom('collector_cosignatures').selectAll();
  if (collector !== undefined) q = q.where('collector', '=', collector);
  const rows = await q.orderBy('collector').orderBy('tree_size').execute();
  return rows.map((r) => ({
    collector: r.collector,
    treeSize: Number(r.tree_size),
    witnessKey: r.witness_key,
    cosignature: r.cosignature,
    cosignedAt: Number(r.cosigned_at),
  }));
}

/**
 * The smallest or the largest stored checkpoint size in [`min`, `max`] (undefined when none is in range).
 * Pushes go checkpoint by checkpoint: the collector requires the pushed leaves to end exactly at a signed
 * checkpoint's size.
 */
export async function checkpointSizeIn(
  db: Kysely<Schema>,
  min: number,
  max: number,
  which: 'smallest' | 'largest',
): Promise<number | undefined> {
  const row = await db
    .selectFrom('log_checkpoints')
    .select('tree_size')
    .where('tree_size', '>=', min)
    .where('tree_size', '<=', max)
    .orderBy('tree_size', which === 'smallest' ? 'asc' : 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.tree_size);
}

/** Leaves `from` … `to − 1` with their evidence, in leaf order. */
export async function readLeavesWithEvidence(
  db: Kysely<Schema>,
  from: number,
  to: number,
): Promise<LeafWithEvidence[]> {
  const rows = await db
    .selectFrom('log_leaves')
    .innerJoin('evidence', 'evidence.id', 'log_leaves.evidence_id')
    .select(['log_leaves.leaf_index', 'log_leaves.leaf_hash', 'evidence.content_stored'])
    .select(LEAF_COLUMNS.map((c) => `evidence.${c}` as const))
    .where('log_leaves.leaf_index', '>=', from)
    .where('log_leaves.leaf_index', '<', to)
    .orderBy('log_leaves.leaf_index')
    .execute();
  return rows.map(({ leaf_index, leaf_hash, content_stored, ...evidence }) => ({
    ...evidence,
    leafIndex: leaf_index,
    leafHash: leaf_hash,
    contentStored: content_stored === 1,
  }));
}

function toState(row: {
  collector: string;
  acked_tree_size: number;
  acked_at: number | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  last_error_at: number | null;
  stopped: 0 | 1;
}): CollectorPushState {
  return {
    collector: row.collector,
    ackedTreeSize: Number(row.acked_tree_size),
    ackedAt: row.acked_at === null ? undefined : Number(row.acked_at),
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error ?? undefined,
    lastErrorAt: row.last_error_at === null ? undefined : Number(row.last_error_at),
    stopped: Number(row.stopped) === 1,
  };
}

/** The stored cosignatures of the checkpoint of `treeSize` leaves, one per collector: for receipts. */
export async function listCosignaturesOfCheckpoint(
  db: Kysely<Schema>,
  treeSize: number,
): Promise<{ witnessKey: string; line: string }[]> {
  const rows = await db
    .selectFrom('collector_cosignatures')
    .select(['witness_key', 'cosignature'])
    .where('tree_size', '=', treeSize)
    .orderBy('collector')
    .execute();
  return rows.map((r) => ({ witnessKey: r.witness_key, line: r.cosignature }));
}

/**
 * What `collector` acknowledged of each of `txHashes` (tx hash → the `ackedKey` recorded with it); hashes
 * it never took are absent.
 */
export async function getCollectorAnchorAcks(
  db: Kysely<Schema>,
  collector: string,
  txHashes: readonly string[],
): Promise<Map<string, string>> {
  if (txHashes.length === 0) return new Map();
  const rows = await db
    .selectFrom('collector_anchor_acks')
    .select(['tx_hash', 'acked_key'])
    .where('collector', '=', collector)
    .where('tx_hash', 'in', txHashes)
    .execute();
  return new Map(rows.map((r) => [r.tx_hash, r.acked_key]));
}

/** Records that `collector` took these anchors as `ackedKey` describes them (replacing what it took before). */
export async function recordCollectorAnchorAcks(
  db: Kysely<Schema>,
  collector: string,
  acks: readonly { readonly txHash: string; readonly ackedKey: string }[],
  now: number,
): Promise<void> {
  if (acks.length === 0) return;
  await db
    .insertInto('collector_anchor_acks')
    .values(acks.map((a) => ({ collector, tx_hash: a.txHash, acked_key: a.ackedKey, acked_at: now })))
    .onConflict((oc) =>
      oc.columns(['collector', 'tx_hash']).doUpdateSet((eb) => ({
        acked_key: eb.ref('excluded.acked_key'),
        acked_at: eb.ref('excluded.acked_at'),
      })),
    )
    .execute();
}
