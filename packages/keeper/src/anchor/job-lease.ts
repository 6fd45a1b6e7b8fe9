import { fenceAnchorJob, releaseAnchorJob } from '@fieldproof/db';
import type { AnchorJobPatch, Schema } from '@fieldproof/db';
import type { Kysely } from 'kysely';
import type { ChainContext, JobLease } from './anchor-context.js';

/** The job was re-claimed by another worker (our lease expired): stop, write nothing more. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(
    readonly jobId: string,
    readonly token: number,
  ) {
    super(`lease on anchor job ${jobId} (token ${token}) was lost to another worker`);
  }
}

/**
 * Runs `fn` in one short write transaction that first checks the job's fencing token. Nothing inside
 * may await network I/O. Throws LeaseLostError (and writes nothing) when the token is no longer current.
 */
export async function withFence<T>(
  ctx: ChainContext,
  lease: JobLease,
  fn: (trx: Kysely<Schema>) => Promise<T>,
): Promise<T> {
  return ctx.database.db.transaction().execute(async (trx) => {
    if (!(await fenceAnchorJob(trx, lease.jobId, lease.token, ctx.now()))) {
      throw new LeaseLostError(lease.jobId, lease.token);
    }
    return fn(trx);
  });
}

/** Ends the claim with `patch` (state, next attempt, error), fenced. */
export async function releaseJob(
  ctx: ChainContext,
  lease: JobLease,
  patch: AnchorJobPatch,
  also?: (trx: Kysely<Schema>) => Promise<void>,
): Promise<void> {
  await withFence(ctx, lease, async (trx) => {
    await also?.(trx);
    if (!(await releaseAnchorJob(trx, lease.jobId, lease.token, { updated_at: ctx.now(), ...patch }))) {
      throw new LeaseLostError(lease.jobId, lease.token);
    }
  });
}
