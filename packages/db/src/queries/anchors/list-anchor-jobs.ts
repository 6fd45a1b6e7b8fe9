import type { Kysely } from 'kysely';
import type { AnchorJobState } from '../../schema/anchor-tables.js';
import type { Schema } from '../../schema/schema.js';
import type { AnchorJobRow } from './anchor-rows.js';

/** Jobs, oldest checkpoint first; optionally of one chain and/or in one state. */
export async function listAnchorJobs(
  db: Kysely<Schema>,
  filter: { readonly chain?: string; readonly state?: AnchorJobState } = {},
): Promise<AnchorJobRow[]> {
  return db
    .selectFrom('anchor_jobs')
    .selectAll()
    .$if(filter.chain !== undefined, (qb) => qb.where('chain', '=', filter.chain!))
    .$if(filter.state !== undefined, (qb) => qb.where('state', '=', filter.state!))
    .orderBy('tree_size')
    .orderBy('chain')
    .execute();
}
