import type { AnchorJobRow, Schema } from '@fieldproof/db';
import type { Kysely } from 'kysely';
import { backoffDelay } from '../backoff.js';
import { isPermanentChainError, type ChainErrorKind } from '../chain/chain-errors.js';
import type { ChainContext, JobLease } from './anchor-context.js';
import { releaseJob } from './job-lease.js';

export interface JobFailure {
  readonly kind: ChainErrorKind | 'internal';
  readonly message: string;
  /** The job still owns a transaction the chain may mine (it cannot be dead-lettered). */
  readonly hasCurrentTx: boolean;
  /** The job's state to keep when it has a current transaction (default: as claimed). */
  readonly state?: AnchorJobRow['state'];
}

/**
 * Records a failed step of a job (not a transport failure: those back off per chain and cost no
 * attempt). The attempt counter grows; the job is retried after a capped exponential backoff with
 * jitter, or dead-lettered when the error is permanent or the attempts are used up.
 *
 * A job is never dead-lettered while it owns a transaction the chain might still mine
 * (`hasCurrentTx`): it keeps following that transaction, or the nonce would be left untracked.
 *
 * `also` runs in the same fenced transaction (e.g. marking the rejected transaction failed).
 */
export async function failJob(
  ctx: ChainContext,
  job: AnchorJobRow,
  lease: JobLease,
  failure: JobFailure,
  also?: (trx: Kysely<Schema>) => Promise<void>,
): Promise<void> {
  const now = ctx.now();
  const attempts = job.attempts + 1;
  const permanent = failure.kind !== 'internal' && isPermanentChainError(failure.kind);
  const log = ctx.logger.child({ jobId: job.id, treeSize: job.tree_size, attempts, kind: failure.kind });
  if (!failure.hasCurrentTx && (permanent || attempts >= ctx.settings.maxAttempts)) {
    const why = permanent ? 'permanent error' : `gave up after ${attempts} attempts`;
    await releaseJob(
      ctx,
      lease,
      { state: 'dead', attempts, last_error: `${why}: ${failure.message}`, next_attempt_at: now },
      also,
    );
    log.error({ error: failure.message }, `anchor job dead-lettered (${why})`);
    return;
  }
  const delay = backoffDelay(attempts, ctx.settings.backoffBaseMs, ctx.settings.backoffMaxMs, ctx.random);
  await releaseJob(
    ctx,
    lease,
    {
      state: failure.hasCurrentTx ? (failure.state ?? job.state) : 'failed',
      attempts,
      last_error: failure.message,
      next_attempt_at: now + delay,
    },
    also,
  );
  log.warn({ error: failure.message, retryInMs: delay }, 'anchor step failed; will retry');
}
