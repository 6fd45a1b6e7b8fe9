import { sql } from 'kysely';
import type { Kysely, Selectable, Updateable } from 'kysely';
import type {
  AnchorJobState,
  AnchorJobTable,
  AnchorTxState,
  AnchorTxTable,
  ChainAccountTable,
} from '../schema/anchor-tables.js';
import type { Schema } from '../schema/schema.js';

/**
 * The anchoring outbox (`anchor_jobs`), the transactions signed for it (`anchor_txs`) and local nonce
 * bookkeeping (`chain_accounts`). Every write to a claimed job is fenced by its `lease_token`: a worker
 * whose lease was re-claimed by another one changes nothing.
 */

export type AnchorJobRow = Selectable<AnchorJobTable>;
export type AnchorTxRow = Selectable<AnchorTxTable>;
export type ChainAccountRow = Selectable<ChainAccountTable>;
export type AnchorJobPatch = Omit<
  Updateable<AnchorJobTable>,
  'id' | 'chain' | 'chain_id' | 'tree_size' | 'lease_token' | 'created_at'
>;
export type AnchorTxPatch = Omit<
  Updateable<AnchorTxTable>,
  'id' | 'job_id' | 'chain' | 'chain_id' | 'from_address' | 'nonce' | 'tx_hash' | 'raw_tx' | 'created_at'
>;

/** Job states a worker still acts on (everything but `final`, `dead` and `lost`). */
export const ACTIVE_ANCHOR_JOB_STATES: readonly AnchorJobState[] = [
  'pending',
  'signed',
  'broadcast',
  'included',
  'confirmed',
  'failed',
];

/** Transaction states that hold a nonce the chain has not consumed yet (at most one per chain). */
export const UNMINED_ANCHOR_TX_STATES: readonly AnchorTxState[] = ['signed', 'broadcast', 'reorged'];

/** The states of a job's one current transaction; every other row of the job is history. */
export const CURRENT_ANCHOR_TX_STATES: readonly AnchorTxState[] = [
  'signed',
  'broadcast',
  'reorged',
  'included',
  'confirmed',
  'final',
];

// ---------------------------------------------------------------------------------------------------
// Scheduling

/** The checkpoint an anchor publishes: origin, size and root (hex). */
export interface AnchorCheckpoint {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly origin: string;
  readonly createdAt: number;
}

/** The newest checkpoint (largest tree), if any. One primary-key read. */
export async function findNewestCheckpointToAnchor(
  db: Kysely<Schema>,
): Promise<AnchorCheckpoint | undefined> {
  const row = await db
    .selectFrom('log_checkpoints')
    .select(['tree_size', 'root_hash', 'origin', 'created_at'])
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : checkpointOf(row);
}

/** The checkpoint of exactly `treeSize` leaves. */
export async function findCheckpointToAnchor(
  db: Kysely<Schema>,
  treeSize: number,
): Promise<AnchorCheckpoint | undefined> {
  const row = await db
    .selectFrom('log_checkpoints')
    .select(['tree_size', 'root_hash', 'origin', 'created_at'])
    .where('tree_size', '=', treeSize)
    .executeTakeFirst();
  return row === undefined ? undefined : checkpointOf(row);
}

function checkpointOf(row: {
  tree_size: number;
  root_hash: string;
  origin: string;
  created_at: number;
}): AnchorCheckpoint {
  return {
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    origin: row.origin,
    createdAt: Number(row.created_at),
  };
}

/** Jobs that anchor nothing and never will: given up, or lost by the chain after they were final. */
export const ENDED_ANCHOR_JOB_STATES: readonly AnchorJobState[] = ['dead', 'lost'];

/** The largest tree size covered by a job on `chain` that is neither dead nor lost (0 when none). */
export async function anchoredTreeSize(db: Kysely<Schema>, chain: string): Promise<number> {
  const row = await db
    .selectFrom('anchor_jobs')
    .select((eb) => eb.fn.max<number | string | null>('tree_size').as('size'))
    .where('chain', '=', chain)
    .where('state', 'not in', ENDED_ANCHOR_JOB_STATES)
    .executeTakeFirst();
  return Number(row?.size ?? 0);
}

/** When leaf `leafIndex` was sequenced (ms), if it exists. */
export async function leafSequencedAt(db: Kysely<Schema>, leafIndex: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('log_leaves')
    .select('sequenced_at')
    .where('leaf_index', '=', leafIndex)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.sequenced_at);
}

/** Whether `chain` has a job (in any state, dead included) for the checkpoint of `treeSize`. */
export async function hasAnchorJobFor(db: Kysely<Schema>, chain: string, treeSize: number): Promise<boolean> {
  const row = await db
    .selectFrom('anchor_jobs')
    .select('id')
    .where('chain', '=', chain)
    .where('tree_size', '=', treeSize)
    .executeTakeFirst();
  return row !== undefined;
}

export interface NewAnchorJob {
  readonly id: string;
  readonly chain: string;
  readonly chainId: number;
  readonly treeSize: number;
  readonly now: number;
}

/**
 * Inserts a pending job; false when (chain, tree size) already has one that is not lost (a partial
 * UNIQUE index: a lost job's checkpoint can be anchored again). The index predicate is repeated as a
 * literal so that both engines match the conflict target to that index.
 */
export async function insertAnchorJob(db: Kysely<Schema>, job: NewAnchorJob): Promise<boolean> {
  const result = await db
    .insertInto('anchor_jobs')
    .values({
      id: job.id,
      chain: job.chain,
      chain_id: job.chainId,
      tree_size: job.treeSize,
      state: 'pending',
      attempts: 0,
      next_attempt_at: job.now,
      lease_owner: null,
      lease_expires_at: null,
      lease_token: 0,
      last_error: null,
      created_at: job.now,
      updated_at: job.now,
    })
    .onConflict((oc) =>
      oc.columns(['chain', 'tree_size']).where(sql.ref('state'), '<>', sql.lit('lost')).doNothing(),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/**
 * Moves the newest live job of `chain` to a newer checkpoint instead of queueing another job behind it —
 * only while that job is untouched: pending or failed, not leased, with no transaction ever signed
 * (nothing on chain refers to its old tree size). Returns whether a job was moved. One statement, so a
 * worker's claim and this update exclude each other.
 */
export async function retargetUntouchedAnchorJob(
  db: Kysely<Schema>,
  args: { readonly chain: string; readonly treeSize: number; readonly now: number },
): Promise<boolean> {
  const result = await db
    .updateTable('anchor_jobs as j')
    .set({ tree_size: args.treeSize, updated_at: args.now })
    .where('j.chain', '=', args.chain)
    .where('j.state', 'in', ['pending', 'failed'])
    .where('j.tree_size', '<', args.treeSize)
    .where('j.tree_size', '=', (eb) =>
      eb
        .selectFrom('anchor_jobs as newest')
        .select((e) => e.fn.max('newest.tree_size').as('size'))
        .where('newest.chain', '=', args.chain)
        .where('newest.state', 'not in', ENDED_ANCHOR_JOB_STATES),
    )
    .where((eb) => eb.or([eb('j.lease_owner', 'is', null), eb('j.lease_expires_at', '<=', args.now)]))
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('anchor_txs as t').select('t.id').whereRef('t.job_id', '=', 'j.id'))),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('anchor_jobs as other')
            .select('other.id')
            .where('other.chain', '=', args.chain)
            .where('other.tree_size', '>=', args.treeSize),
        ),
      ),
    )
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

// ---------------------------------------------------------------------------------------------------
// Claiming and fencing

/**
 * Whether `chain` has a job a worker could claim now. A plain read, taken before any write lock, so an
 * idle keeper never queues behind (or in front of) the api's commits.
 */
export async function hasDueAnchorJob(db: Kysely<Schema>, chain: string, now: number): Promise<boolean> {
  const row = await dueJobs(db, chain, now).select('j.id').limit(1).executeTakeFirst();
  return row !== undefined;
}

export interface ClaimAnchorJob {
  readonly chain: string;
  readonly owner: string;
  readonly now: number;
  readonly leaseMs: number;
  /** `FOR UPDATE SKIP LOCKED` (PostgreSQL); SQLite serialises claims with its write lock instead. */
  readonly skipLocked: boolean;
}

/**
 * Claims the most overdue job of a chain: sets the lease and increments `lease_token`, the fencing token
 * every later write of the job must present. Run inside a write transaction. A job that needs a new
 * transaction is not claimable while another job of the same chain has an unmined one: one nonce in
 * flight per chain keeps local nonce management gap-free.
 */
export async function claimAnchorJob(
  trx: Kysely<Schema>,
  claim: ClaimAnchorJob,
): Promise<AnchorJobRow | undefined> {
  const candidate = await dueJobs(trx, claim.chain, claim.now)
    .selectAll('j')
    .orderBy('j.next_attempt_at')
    .orderBy('j.tree_size')
    .limit(1)
    .$if(claim.skipLocked, (qb) => qb.forUpdate().skipLocked())
    .executeTakeFirst();
  if (candidate === undefined) return undefined;
  const token = Number(candidate.lease_token) + 1;
  const patch = {
    lease_owner: claim.owner,
    lease_expires_at: claim.now + claim.leaseMs,
    lease_token: token,
    updated_at: claim.now,
  };
  const result = await trx
    .updateTable('anchor_jobs')
    .set(patch)
    .where('id', '=', candidate.id)
    .where('lease_token', '=', Number(candidate.lease_token))
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) return undefined;
  return normaliseJob({ ...candidate, ...patch });
}

function dueJobs(db: Kysely<Schema>, chain: string, now: number) {
  return db
    .selectFrom('anchor_jobs as j')
    .where('j.chain', '=', chain)
    .where('j.state', 'in', ACTIVE_ANCHOR_JOB_STATES)
    .where('j.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('j.lease_expires_at', 'is', null), eb('j.lease_expires_at', '<=', now)]))
    .where((eb) =>
      eb.not(
        eb.and([
          eb('j.state', 'in', ['pending', 'failed']),
          eb.exists(
            eb
              .selectFrom('anchor_txs as t')
              .select('t.id')
              .whereRef('t.chain', '=', 'j.chain')
              .whereRef('t.job_id', '<>', 'j.id')
              .where('t.state', 'in', UNMINED_ANCHOR_TX_STATES),
          ),
        ]),
      ),
    );
}

/**
 * The fencing check: touches the job only if `token` is still its lease token. Call first in every
 * write transaction of a claimed job; false means the lease was lost and nothing may be written.
 */
export async function fenceAnchorJob(
  trx: Kysely<Schema>,
  jobId: string,
  token: number,
  now: number,
): Promise<boolean> {
  const result = await trx
    .updateTable('anchor_jobs')
    .set({ updated_at: now })
    .where('id', '=', jobId)
    .where('lease_token', '=', token)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Updates a claimed job if `token` is still its lease token; false otherwise. */
export async function updateAnchorJob(
  trx: Kysely<Schema>,
  jobId: string,
  token: number,
  patch: AnchorJobPatch,
): Promise<boolean> {
  const result = await trx
    .updateTable('anchor_jobs')
    .set(patch)
    .where('id', '=', jobId)
    .where('lease_token', '=', token)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Ends a claim: applies `patch` and clears the lease, if `token` is still the job's lease token. */
export async function releaseAnchorJob(
  trx: Kysely<Schema>,
  jobId: string,
  token: number,
  patch: AnchorJobPatch,
): Promise<boolean> {
  return updateAnchorJob(trx, jobId, token, { ...patch, lease_owner: null, lease_expires_at: null });
}

export async function getAnchorJob(db: Kysely<Schema>, id: string): Promise<AnchorJobRow | undefined> {
  const row = await db.selectFrom('anchor_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : normaliseJob(row);
}

/** Jobs, oldest checkpoint first; optionally of one chain and/or in one state. */
export async function listAnchorJobs(
  db: Kysely<Schema>,
  filter: { readonly chain?: string; readonly state?: AnchorJobState } = {},
): Promise<AnchorJobRow[]> {
  const rows = await db
    .selectFrom('anchor_jobs')
    .selectAll()
    .$if(filter.chain !== undefined, (qb) => qb.where('chain', '=', filter.chain!))
    .$if(filter.state !== undefined, (qb) => qb.where('state', '=', filter.state!))
    .orderBy('tree_size')
    .orderBy('chain')
    .execute();
  return rows.map(normaliseJob);
}

/** What `requeueDeadAnchorJob` did: `requeued`, or why not (`unknown` id, or the job's live state). */
export type RequeueAnchorJobResult =
  | { readonly outcome: 'requeued'; readonly job: AnchorJobRow }
  | { readonly outcome: 'unknown' }
  | { readonly outcome: 'not-dead'; readonly job: AnchorJobRow };

/**
 * Puts a dead-lettered job back in the outbox as `pending`, due now, with a fresh attempt budget — the
 * operator's retry once the cause (an empty signer, a bad contract address) is fixed. From there the
 * job takes the normal path: a worker claims it and signs a NEW transaction (a dead job never owns one
 * the chain might still mine, see `failJob`), so exactly-once holds as for any pending job.
 *
 * One conditional UPDATE (`state = 'dead'`), so a job that is not dead is never touched, and the lease
 * token is bumped so any stale holder of an old lease is fenced out. `last_error` is kept until the next
 * attempt replaces it, and the job's transactions stay as history.
 */
export async function requeueDeadAnchorJob(
  db: Kysely<Schema>,
  id: string,
  now: number,
): Promise<RequeueAnchorJobResult> {
  const result = await db
    .updateTable('anchor_jobs')
    .set((eb) => ({
      state: 'pending',
      attempts: 0,
      next_attempt_at: now,
      lease_owner: null,
      lease_expires_at: null,
      lease_token: eb('lease_token', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', id)
    .where('state', '=', 'dead')
    .executeTakeFirst();
  const job = await getAnchorJob(db, id);
  if (job === undefined) return { outcome: 'unknown' };
  return result.numUpdatedRows > 0n ? { outcome: 'requeued', job } : { outcome: 'not-dead', job };
}

function normaliseJob(row: AnchorJobRow): AnchorJobRow {
  return {
    ...row,
    chain_id: Number(row.chain_id),
    tree_size: Number(row.tree_size),
    attempts: Number(row.attempts),
    next_attempt_at: Number(row.next_attempt_at),
    lease_expires_at: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
    lease_token: Number(row.lease_token),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

// ---------------------------------------------------------------------------------------------------
// Transactions

export type NewAnchorTx = Omit<
  AnchorTxRow,
  'block_number' | 'block_hash' | 'block_timestamp' | 'gas_used' | 'effective_gas_price'
>;

export async function insertAnchorTx(trx: Kysely<Schema>, tx: NewAnchorTx): Promise<void> {
  await trx
    .insertInto('anchor_txs')
    .values({
      ...tx,
      block_number: null,
      block_hash: null,
      block_timestamp: null,
      gas_used: null,
      effective_gas_price: null,
    })
    .execute();
}

export async function updateAnchorTx(trx: Kysely<Schema>, id: string, patch: AnchorTxPatch): Promise<void> {
  await trx.updateTable('anchor_txs').set(patch).where('id', '=', id).execute();
}

export async function getAnchorTxByHash(
  db: Kysely<Schema>,
  txHash: string,
): Promise<AnchorTxRow | undefined> {
  const row = await db.selectFrom('anchor_txs').selectAll().where('tx_hash', '=', txHash).executeTakeFirst();
  return row === undefined ? undefined : normaliseTx(row);
}

/** Every transaction signed for a job, oldest first. */
export async function listAnchorTxsOfJob(db: Kysely<Schema>, jobId: string): Promise<AnchorTxRow[]> {
  const rows = await db
    .selectFrom('anchor_txs')
    .selectAll()
    .where('job_id', '=', jobId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(normaliseTx);
}

/** Every transaction on a chain, oldest first (tests, status pages). */
export async function listAnchorTxsOfChain(db: Kysely<Schema>, chain: string): Promise<AnchorTxRow[]> {
  const rows = await db
    .selectFrom('anchor_txs')
    .selectAll()
    .where('chain', '=', chain)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(normaliseTx);
}

/** Whether another job of `chain` holds an unmined transaction. */
export async function hasUnminedAnchorTx(
  db: Kysely<Schema>,
  chain: string,
  exceptJobId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('anchor_txs')
    .select('id')
    .where('chain', '=', chain)
    .where('job_id', '<>', exceptJobId)
    .where('state', 'in', UNMINED_ANCHOR_TX_STATES)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Nonces held by unmined transactions on `chain` (skipped when allocating a new one). */
export async function unminedAnchorNonces(db: Kysely<Schema>, chain: string): Promise<number[]> {
  const rows = await db
    .selectFrom('anchor_txs')
    .select('nonce')
    .where('chain', '=', chain)
    .where('state', 'in', UNMINED_ANCHOR_TX_STATES)
    .execute();
  return rows.map((r) => Number(r.nonce));
}

function normaliseTx(row: AnchorTxRow): AnchorTxRow {
  return {
    ...row,
    chain_id: Number(row.chain_id),
    nonce: Number(row.nonce),
    block_number: row.block_number === null ? null : Number(row.block_number),
    block_timestamp: row.block_timestamp === null ? null : Number(row.block_timestamp),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

// ---------------------------------------------------------------------------------------------------
// Nonces

export async function getChainAccount(
  db: Kysely<Schema>,
  chain: string,
  address: string,
): Promise<ChainAccountRow | undefined> {
  const row = await db
    .selectFrom('chain_accounts')
    .selectAll()
    .where('chain', '=', chain)
    .where('address', '=', address)
    .executeTakeFirst();
  return row === undefined ? undefined : normaliseAccount(row);
}

/** Records the first nonce of an account; a no-op when it is already known. */
export async function initChainAccount(db: Kysely<Schema>, account: ChainAccountRow): Promise<void> {
  await db
    .insertInto('chain_accounts')
    .values(account)
    .onConflict((oc) => oc.columns(['chain', 'address']).doNothing())
    .execute();
}

/**
 * Locks an account row for the rest of the write transaction (an UPDATE takes the row lock on
 * PostgreSQL; SQLite's transaction already holds the write lock) and returns it.
 */
export async function lockChainAccount(
  trx: Kysely<Schema>,
  chain: string,
  address: string,
  now: number,
): Promise<ChainAccountRow | undefined> {
  const row = await trx
    .updateTable('chain_accounts')
    .set({ updated_at: now })
    .where('chain', '=', chain)
    .where('address', '=', address)
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? undefined : normaliseAccount(row);
}

export async function setChainAccountNonce(
  trx: Kysely<Schema>,
  chain: string,
  address: string,
  nextNonce: number,
  now: number,
): Promise<void> {
  await trx
    .updateTable('chain_accounts')
    .set({ next_nonce: nextNonce, updated_at: now })
    .where('chain', '=', chain)
    .where('address', '=', address)
    .execute();
}

function normaliseAccount(row: ChainAccountRow): ChainAccountRow {
  return {
    ...row,
    chain_id: Number(row.chain_id),
    next_nonce: Number(row.next_nonce),
    updated_at: Number(row.updated_at),
  };
}

// ---------------------------------------------------------------------------------------------------
// Metrics

export interface AnchorStateCount {
  readonly chain: string;
  readonly state: AnchorJobState;
  readonly count: number;
}

/** Jobs per chain and state. */
export async function countAnchorJobsByState(db: Kysely<Schema>): Promise<AnchorStateCount[]> {
  const rows = await db
    .selectFrom('anchor_jobs')
    .select(['chain', 'state', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy(['chain', 'state'])
    .execute();
  return rows.map((r) => ({ chain: r.chain, state: r.state, count: Number(r.n) }));
}

/** Per chain, the block time (ms) of the newest `final` anchor transaction. */
export async function newestFinalAnchorTimes(
  db: Kysely<Schema>,
): Promise<{ chain: string; blockTimestamp: number }[]> {
  const rows = await db
    .selectFrom('anchor_txs')
    .select(['chain', (eb) => eb.fn.max<number | string | null>('block_timestamp').as('t')])
    .where('state', '=', 'final')
    .groupBy('chain')
    .execute();
  return rows.filter((r) => r.t !== null).map((r) => ({ chain: r.chain, blockTimestamp: Number(r.t) }));
}
