import type { Kysely } from 'kysely';
import { LIVE_ANCHOR_TX_STATES, SETTLED_ANCHOR_JOB_STATES } from '../schema/anchor-tables.js';
import type { AnchorJobState, AnchorTxState } from '../schema/anchor-tables.js';
import type { Schema } from '../schema/schema.js';
import { afterCursor, pageOf } from './keyset.js';
import type { KeysetPage, SortOrder } from './keyset.js';

/**
 * The reads behind receipts, proofs and the anchoring status pages (`GET /v1/anchors`, `GET /v1/outbox`).
 * Leaves, nodes and checkpoints are read with `log.ts`; this module adds what concerns anchors as a
 * receipt or an operator sees them.
 */

/** One anchor of a checkpoint: a job's live transaction. */
export interface CheckpointAnchorRow {
  readonly chain: string;
  readonly chainId: number;
  readonly jobState: AnchorJobState;
  readonly txHash: string;
  readonly txState: AnchorTxState;
  readonly fromAddress: string;
  readonly blockNumber: number | null;
  readonly blockHash: string | null;
  /** Unix milliseconds. */
  readonly blockTimestamp: number | null;
}

/**
 * The anchors of the checkpoint of `treeSize` leaves, one per chain: that chain's job's live transaction
 * (the one in a block if any, else the newest). Ordered by chain name. One query.
 */
export async function listCheckpointAnchors(
  db: Kysely<Schema>,
  treeSize: number,
): Promise<CheckpointAnchorRow[]> {
  const rows = await db
    .selectFrom('anchor_jobs as j')
    .innerJoin('anchor_txs as t', 't.job_id', 'j.id')
    .select([
      'j.chain',
      'j.chain_id',
      'j.state as job_state',
      't.tx_hash',
      't.state as tx_state',
      't.from_address',
      't.block_number',
      't.block_hash',
      't.block_timestamp',
      't.created_at',
    ])
    .where('j.tree_size', '=', treeSize)
    .where('t.state', 'in', LIVE_ANCHOR_TX_STATES)
    .orderBy('j.chain')
    .orderBy('t.created_at', 'desc')
    .execute();
  const byChain = new Map<string, (typeof rows)[number]>();
  for (const row of rows) {
    const chosen = byChain.get(row.chain);
    // Rows of a chain come newest first: keep the first, unless a later one is in a block.
    if (chosen === undefined || (chosen.block_number === null && row.block_number !== null)) {
      byChain.set(row.chain, row);
    }
  }
  return [...byChain.values()].map((r) => ({
    chain: r.chain,
    chainId: r.chain_id,
    jobState: r.job_state,
    txHash: r.tx_hash,
    txState: r.tx_state,
    fromAddress: r.from_address,
    blockNumber: r.block_number === null ? null : r.block_number,
    blockHash: r.block_hash,
    blockTimestamp: r.block_timestamp === null ? null : r.block_timestamp,
  }));
}

// ---------------------------------------------------------------------------------------------------
// The anchor list (GET /v1/anchors)

/** An outbox job with its current transaction, if it has one. */
export interface AnchorListRow {
  readonly id: string;
  readonly chain: string;
  readonly chainId: number;
  readonly treeSize: number;
  readonly state: AnchorJobState;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly txHash: string | null;
  readonly txState: AnchorTxState | null;
  readonly blockNumber: number | null;
  readonly blockHash: string | null;
  readonly blockTimestamp: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AnchorListFilter {
  readonly order: SortOrder;
  readonly limit: number;
  /** Keyset cursor: the (tree size, job id) of the last row of the previous page. */
  readonly after?: { readonly treeSize: number; readonly id: string } | undefined;
  readonly chain?: string | undefined;
  readonly state?: AnchorJobState | undefined;
}

/**
 * States of a job's one current transaction (every other transaction of the job is history). A lost job
 * shows the transaction the chain lost.
 */
const CURRENT_TX_STATES: readonly AnchorTxState[] = [...LIVE_ANCHOR_TX_STATES, 'reorged', 'lost'];

/**
 * One page of anchor jobs in (tree size, id) order, each with its current transaction. Keyset-paginated
 * (no OFFSET); fetches `limit + 1` rows to tell whether another page follows.
 */
export async function listAnchorsPage(
  db: Kysely<Schema>,
  filter: AnchorListFilter,
): Promise<KeysetPage<AnchorListRow>> {
  const direction = filter.order === 'desc' ? 'desc' : 'asc';
  let query = db
    .selectFrom('anchor_jobs as j')
    .leftJoin('anchor_txs as t', (join) =>
      join.onRef('t.job_id', '=', 'j.id').on('t.state', 'in', CURRENT_TX_STATES),
    )
    .select([
      'j.id',
      'j.chain',
      'j.chain_id',
      'j.tree_size',
      'j.state',
      'j.attempts',
      'j.last_error',
      'j.created_at',
      'j.updated_at',
      't.tx_hash',
      't.state as tx_state',
      't.block_number',
      't.block_hash',
      't.block_timestamp',
    ]);
  if (filter.chain !== undefined) query = query.where('j.chain', '=', filter.chain);
  if (filter.state !== undefined) query = query.where('j.state', '=', filter.state);
  if (filter.after !== undefined) {
    query = query.where(
      afterCursor('j.tree_size', 'j.id', { key: filter.after.treeSize, id: filter.after.id }, filter.order),
    );
  }
  const rows = await query
    .orderBy('j.tree_size', direction)
    .orderBy('j.id', direction)
    .limit(filter.limit + 1)
    .execute();
  const page = pageOf(rows, filter.limit);
  return {
    more: page.more,
    rows: page.rows.map((r) => ({
      id: r.id,
      chain: r.chain,
      chainId: r.chain_id,
      treeSize: r.tree_size,
      state: r.state,
      attempts: r.attempts,
      lastError: r.last_error,
      txHash: r.tx_hash,
      txState: r.tx_state,
      blockNumber: r.block_number === null ? null : r.block_number,
      blockHash: r.block_hash,
      blockTimestamp: r.block_timestamp === null ? null : r.block_timestamp,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    })),
  };
}

// ---------------------------------------------------------------------------------------------------
// The outbox summary (GET /v1/outbox)

/**
 * Per chain, among its jobs still in progress (not `final`, `dead` or `lost`): the creation time (ms) of the
 * oldest and the smallest tree size waiting.
 */
export async function oldestActiveAnchorJobs(
  db: Kysely<Schema>,
): Promise<{ chain: string; createdAt: number; treeSize: number }[]> {
  const rows = await db
    .selectFrom('anchor_jobs')
    .select(['chain', (eb) => eb.fn.min<number>('created_at').as('created_at')])
    .select((eb) => eb.fn.min<number>('tree_size').as('tree_size'))
    .where('state', 'not in', SETTLED_ANCHOR_JOB_STATES)
    .groupBy('chain')
    .orderBy('chain')
    .execute();
  return rows.map((r) => ({
    chain: r.chain,
    createdAt: r.created_at,
    treeSize: r.tree_size,
  }));
}

/** A dead-lettered job: attempts exhausted or a permanent error, with the last error. */
export interface DeadAnchorJob {
  readonly id: string;
  readonly chain: string;
  readonly chainId: number;
  readonly treeSize: number;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The `limit` most recently dead-lettered jobs, newest first. */
export async function listDeadAnchorJobs(db: Kysely<Schema>, limit: number): Promise<DeadAnchorJob[]> {
  const rows = await db
    .selectFrom('anchor_jobs')
    .select(['id', 'chain', 'chain_id', 'tree_size', 'attempts', 'last_error', 'created_at', 'updated_at'])
    .where('state', '=', 'dead')
    .orderBy('updated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    chain: r.chain,
    chainId: r.chain_id,
    treeSize: r.tree_size,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}
