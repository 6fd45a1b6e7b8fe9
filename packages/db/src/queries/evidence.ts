import type { Kysely } from 'kysely';
import type { EvidenceRow, NewEvidence } from '../schema/evidence-table.js';
import type { Schema } from '../schema/schema.js';
import { runBulk } from './bulk-statement.js';
import type { BulkStatement } from './bulk-statement.js';
import { EVIDENCE_COLUMNS, EVIDENCE_INSERT_MAX_ROWS, evidenceValues } from './evidence-columns.js';
import { enqueueEvidence } from './log/sequence-queue.js';
import { afterCursor, pageOf } from './keyset.js';
import type { KeysetPage, SortOrder } from './keyset.js';

export type { EvidenceRow, NewEvidence };

/** An evidence row with its log position (null until the keeper sequenced it). */
export type EvidenceWithLeaf = EvidenceRow & { leaf_index: number | null };

/**
 * Appends evidence rows and, on PostgreSQL, with each its `sequence_queue` row (the keeper drains the
 * queue; on SQLite it reads evidence in rowid order instead, see queries/log/sequence-queue.ts).
 * Call inside a transaction: the two inserts must commit together. Multi-row statements
 * (queries/bulk-statement.ts), because per-row statements cost most of a group commit's time; a
 * constraint violation fails the whole call (callers wanting per-row outcomes call it once per row under
 * a savepoint).
 */
export async function appendEvidence(trx: Kysely<Schema>, rows: readonly NewEvidence[]): Promise<void> {
  await runBulk(trx, INSERT_EVIDENCE, rows);
  await enqueueEvidence(trx, rows);
}

/** Every column set (to null: only the SQL text is used), so kysely lists them all, in this order. */
const TEMPLATE_EVIDENCE = Object.fromEntries(
  EVIDENCE_COLUMNS.map((c) => [c, null]),
) as unknown as NewEvidence;

const INSERT_EVIDENCE: BulkStatement<NewEvidence> = {
  name: 'evidence.insert',
  maxRows: EVIDENCE_INSERT_MAX_ROWS,
  build: (db, n) => db.insertInto('evidence').values(new Array<NewEvidence>(n).fill(TEMPLATE_EVIDENCE)),
  values: evidenceValues,
};

export async function findEvidenceByDigest(
  db: Kysely<Schema>,
  digest: string,
): Promise<EvidenceRow | undefined> {
  return db.selectFrom('evidence').selectAll().where('digest', '=', digest).executeTakeFirst();
}

/** One evidence row with its leaf index, if sequenced. */
export async function findEvidenceWithLeaf(
  db: Kysely<Schema>,
  id: string,
): Promise<EvidenceWithLeaf | undefined> {
  return db
    .selectFrom('evidence')
    .leftJoin('log_leaves', 'log_leaves.evidence_id', 'evidence.id')
    .selectAll('evidence')
    .select('log_leaves.leaf_index')
    .where('evidence.id', '=', id)
    .executeTakeFirst();
}

export type EvidenceSortKey = 'receivedAt' | 'occurredAt';

/**
 * Which leaves are in which anchoring status, as leaf-index bounds (see anchoring-status.ts):
 * `[0, final)` final, `[final, confirmed)` confirmed, `[confirmed, anchored)` anchored, the rest sequenced.
 */
export interface StatusBounds {
  readonly anchored: number;
  readonly confirmed: number;
  readonly final: number;
}

export type EvidenceStatus = 'pending' | 'sequenced' | 'anchored' | 'confirmed' | 'final';

export interface EvidenceListFilter {
  readonly sort: EvidenceSortKey;
  readonly order: SortOrder;
  readonly limit: number;
  readonly after?: { readonly key: number; readonly id: string } | undefined;
  readonly kind?: string | undefined;
  /** With `bounds`: only evidence in exactly this status. */
  readonly status?: { readonly is: EvidenceStatus; readonly bounds: StatusBounds } | undefined;
  readonly receivedFrom?: number | undefined;
  readonly receivedTo?: number | undefined;
  readonly occurredFrom?: number | undefined;
  readonly occurredTo?: number | undefined;
}

/**
 * One page of evidence in (sort key, id) order, keyset-paginated: no OFFSET, and the id breaks ties so
 * that rows inserted between pages are neither repeated nor skipped. `*From` bounds are inclusive, `*To`
 * exclusive. Fetches `limit + 1` rows to tell whether another page follows.
 */
export async function listEvidence(
  db: Kysely<Schema>,
  filter: EvidenceListFilter,
): Promise<KeysetPage<EvidenceWithLeaf>> {
  const keyColumn = filter.sort === 'occurredAt' ? 'evidence.occurred_at' : 'evidence.received_at';
  const direction = filter.order === 'desc' ? 'desc' : 'asc';
  let query = db
    .selectFrom('evidence')
    .leftJoin('log_leaves', 'log_leaves.evidence_id', 'evidence.id')
    .selectAll('evidence')
    .select('log_leaves.leaf_index');
  if (filter.kind !== undefined) query = query.where('evidence.kind', '=', filter.kind);
  if (filter.receivedFrom !== undefined)
    query = query.where('evidence.received_at', '>=', filter.receivedFrom);
  if (filter.receivedTo !== undefined) query = query.where('evidence.received_at', '<', filter.receivedTo);
  if (filter.occurredFrom !== undefined)
    query = query.where('evidence.occurred_at', '>=', filter.occurredFrom);
  if (filter.occurredTo !== undefined) query = query.where('evidence.occurred_at', '<', filter.occurredTo);
  if (filter.status !== undefined) {
    const { is, bounds } = filter.status;
    if (is === 'pending') {
      query = query.where('log_leaves.leaf_index', 'is', null);
    } else {
      const [low, high] =
        is === 'final'
          ? [0, bounds.final]
          : is === 'confirmed'
            ? [bounds.final, bounds.confirmed]
            : is === 'anchored'
              ? [bounds.confirmed, bounds.anchored]
              : [bounds.anchored, Number.MAX_SAFE_INTEGER];
      query = query.where('log_leaves.leaf_index', '>=', low).where('log_leaves.leaf_index', '<', high);
    }
  }
  if (filter.after !== undefined) {
    query = query.where(afterCursor(keyColumn, 'evidence.id', filter.after, filter.order));
  }
  const rows = await query
    .orderBy(keyColumn, direction)
    .orderBy('evidence.id', direction)
    .limit(filter.limit + 1)
    .execute();
  return pageOf(rows, filter.limit);
}
