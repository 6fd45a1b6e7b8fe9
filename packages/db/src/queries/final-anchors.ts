import type { Kysely } from 'kysely';
import type { Schema } from '../schema/schema.js';
import { ENDED_ANCHOR_JOB_STATES } from '../schema/anchor-tables.js';
import type { AnchorJobRow } from './anchors/anchor-rows.js';
import { takeAnchorJobLease } from './anchors/claim-anchor-job.js';

/**
 * A final anchor is not forever: a chain reset or a reorg deeper than the chain's finality removes it.
 * The keeper re-checks final anchors (the newest of each chain every confirmation poll, all of them on a
 * slow schedule) and marks one the chain no longer has `lost`. These are the reads and the claim it uses.
 */

/** A final job with its final transaction. */
export interface FinalAnchor {
  readonly jobId: string;
  readonly treeSize: number;
  readonly txHash: string;
  readonly blockNumber: number;
  readonly blockHash: string;
}

/**
 * Final jobs of `chain` with their final transaction, largest checkpoint first; only those below
 * `beforeTreeSize` when given (the cursor of a sweep).
 */
export async function listFinalAnchors(
  db: Kysely<Schema>,
  chain: string,
  page: { readonly beforeTreeSize?: number | undefined; readonly limit: number },
): Promise<FinalAnchor[]> {
  const rows = await db
    .selectFrom('anchor_jobs as j')
    .innerJoin('anchor_txs as t', 't.job_id', 'j.id')
    .select(['j.id', 'j.tree_size', 't.tx_hash', 't.block_number', 't.block_hash'])
    .where('j.chain', '=', chain)
    .where('j.state', '=', 'final')
    .where('t.state', '=', 'final')
    .$if(page.beforeTreeSize !== undefined, (qb) => qb.where('j.tree_size', '<', page.beforeTreeSize!))
    .orderBy('j.tree_size', 'desc')
    .limit(page.limit)
    .execute();
  return rows.flatMap((r) =>
    r.block_number === null || r.block_hash === null
      ? []
      : [
          {
            jobId: r.id,
            treeSize: r.tree_size,
            txHash: r.tx_hash,
            blockNumber: r.block_number,
            blockHash: r.block_hash,
          },
        ],
  );
}

/**
 * Claims a final job for a re-check step, like `claimAnchorJob` claims a due one: sets the lease and
 * increments the fencing token. Undefined when the job is no longer final or another worker holds it.
 * Run inside a write transaction.
 */
export async function claimFinalAnchorJob(
  trx: Kysely<Schema>,
  claim: { readonly jobId: string; readonly owner: string; readonly now: number; readonly leaseMs: number },
): Promise<AnchorJobRow | undefined> {
  const job = await trx
    .selectFrom('anchor_jobs')
    .selectAll()
    .where('id', '=', claim.jobId)
    .where('state', '=', 'final')
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', claim.now)]))
    .executeTakeFirst();
  if (job === undefined) return undefined;
  return takeAnchorJobLease(trx, job, claim);
}

/**
 * Whether a job of `chain` that is neither dead nor lost anchors a checkpoint of at least `treeSize`
 * leaves (it then covers every leaf of the smaller one: a lost anchor needs no second re-anchoring).
 */
export async function hasLiveAnchorJobCovering(
  db: Kysely<Schema>,
  chain: string,
  treeSize: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('anchor_jobs')
    .select('id')
    .where('chain', '=', chain)
    .where('state', 'not in', ENDED_ANCHOR_JOB_STATES)
    .where('tree_size', '>=', treeSize)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** A lost anchor that no final anchor of its chain covers yet. */
export interface UncoveredLostAnchor {
  readonly treeSize: number;
  readonly txHash: string | null;
  readonly blockNumber: number | null;
  /** When the loss was recorded (ms). */
  readonly lostAt: number;
}

/**
 * The largest lost checkpoint of `chain` for which no final job of at least its size exists: until
 * there is one, leaves the lost anchor covered are not final on this chain (readiness says so).
 */
export async function findUncoveredLostAnchor(
  db: Kysely<Schema>,
  chain: string,
): Promise<UncoveredLostAnchor | undefined> {
  const row = await db
    .selectFrom('anchor_jobs as l')
    .leftJoin('anchor_txs as t', (join) => join.onRef('t.job_id', '=', 'l.id').on('t.state', '=', 'lost'))
    .select(['l.tree_size', 'l.updated_at', 't.tx_hash', 't.block_number'])
    .where('l.chain', '=', chain)
    .where('l.state', '=', 'lost')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('anchor_jobs as f')
            .select('f.id')
            .whereRef('f.chain', '=', 'l.chain')
            .where('f.state', '=', 'final')
            .whereRef('f.tree_size', '>=', 'l.tree_size'),
        ),
      ),
    )
    .orderBy('l.tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    treeSize: row.tree_size,
    txHash: row.tx_hash,
    blockNumber: row.block_number === null ? null : row.block_number,
    lostAt: row.updated_at,
  };
}
