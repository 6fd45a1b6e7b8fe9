import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { ENDED_ANCHOR_JOB_STATES } from '../../schema/anchor-tables.js';
import type { Schema } from '../../schema/schema.js';

/** The largest tree size covered by a job on `chain` that is neither dead nor lost (0 when none). */
export async function anchoredTreeSize(db: Kysely<Schema>, chain: string): Promise<number> {
  const row = await db
    .selectFrom('anchor_jobs')
    .select((eb) => eb.fn.max('tree_size').as('size'))
    .where('chain', '=', chain)
    .where('state', 'not in', ENDED_ANCHOR_JOB_STATES)
    .executeTakeFirst();
  return row?.size ?? 0;
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
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
