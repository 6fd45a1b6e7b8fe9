import type { Kysely } from 'kysely';
import type { AnchorJobState } from '../../schema/anchor-tables.js';
import type { Schema } from '../../schema/schema.js';

export interface AnchorStateCount {
  readonly chain: string;
  readonly state: AnchorJobState;
  readonly count: number;
}

/** Jobs per chain and state (COUNT is BIGINT on PostgreSQL: a number, as every BIGINT here). */
export async function countAnchorJobsByState(db: Kysely<Schema>): Promise<AnchorStateCount[]> {
  return db
    .selectFrom('anchor_jobs')
    .select(['chain', 'state', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['chain', 'state'])
    .execute();
}

/** Per chain, the block time (ms) of the newest `final` anchor transaction. */
export async function newestFinalAnchorTimes(
  db: Kysely<Schema>,
): Promise<{ chain: string; blockTimestamp: number }[]> {
  const rows = await db
    .selectFrom('anchor_txs')
    .select(['chain', (eb) => eb.fn.max('block_timestamp').as('t')])
    .where('state', '=', 'final')
    .groupBy('chain')
    .execute();
  return rows.flatMap((r) => (r.t === null ? [] : [{ chain: r.chain, blockTimestamp: r.t }]));
}
