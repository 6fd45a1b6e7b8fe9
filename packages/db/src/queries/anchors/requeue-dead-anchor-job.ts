import type { Kysely } from 'kysely';
import type { Schema } from '../../schema/schema.js';
import type { AnchorJobRow } from './anchor-rows.js';

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
  const job = await db.selectFrom('anchor_jobs').selectAll().where('id', '=', id).executeTakeFirst();
  if (job === undefined) return { outcome: 'unknown' };
  return result.numUpdatedRows > 0n ? { outcome: 'requeued', job } : { outcome: 'not-dead', job };
}
