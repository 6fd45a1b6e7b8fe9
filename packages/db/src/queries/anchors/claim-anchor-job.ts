import type { Kysely } from 'kysely';
import {
  ACTIVE_ANCHOR_JOB_STATES,
  UNMINED_ANCHOR_TX_STATES,
  UNSIGNED_ANCHOR_JOB_STATES,
} from '../../schema/anchor-tables.js';
import type { Schema } from '../../schema/schema.js';
import type { AnchorJobRow } from './anchor-rows.js';

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
  return takeAnchorJobLease(trx, candidate, claim);
}

/**
 * Leases `job` (as read in this transaction) to `owner` until `now + leaseMs` and increments its fencing
 * token — only if the token is still the one read. Returns the job as it now is, or undefined when another
 * claim got there first. Shared by every claim (due jobs here, final jobs in final-anchors.ts).
 */
export async function takeAnchorJobLease(
  trx: Kysely<Schema>,
  job: AnchorJobRow,
  lease: { readonly owner: string; readonly now: number; readonly leaseMs: number },
): Promise<AnchorJobRow | undefined> {
  const patch = {
    lease_owner: lease.owner,
    lease_expires_at: lease.now + lease.leaseMs,
    lease_token: job.lease_token + 1,
    updated_at: lease.now,
  };
  const result = await trx
    .updateTable('anchor_jobs')
    .set(patch)
    .where('id', '=', job.id)
    .where('lease_token', '=', job.lease_token)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) return undefined;
  return { ...job, ...patch };
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
          eb('j.state', 'in', UNSIGNED_ANCHOR_JOB_STATES),
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
