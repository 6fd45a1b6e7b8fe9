import type { Kysely } from 'kysely';
import type { Schema } from '../../schema/schema.js';
import type { AnchorJobPatch } from './anchor-rows.js';

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
  return updateAnchorJob(trx, jobId, token, { updated_at: now });
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
