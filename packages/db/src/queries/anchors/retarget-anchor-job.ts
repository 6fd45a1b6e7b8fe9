import type { Kysely } from 'kysely';
import { ENDED_ANCHOR_JOB_STATES, UNSIGNED_ANCHOR_JOB_STATES } from '../../schema/anchor-tables.js';
import type { Schema } from '../../schema/schema.js';

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
    .where('j.state', 'in', UNSIGNED_ANCHOR_JOB_STATES)
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
