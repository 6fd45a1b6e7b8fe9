import type { Kysely } from 'kysely';
import type { Schema } from '../../schema/schema.js';
import { getLeafByIndex } from './log-leaves.js';

/**
 * Seconds-free building block of the "oldest unanchored leaf" metric: the `sequenced_at` of the first
 * leaf not covered by any `final` anchor (a final anchor of tree size N covers leaves 0 … N−1), or
 * undefined when every leaf is covered. Two index reads: the largest final tree size, then one leaf by
 * primary key.
 */
export async function oldestUnanchoredLeafTime(db: Kysely<Schema>): Promise<number | undefined> {
  const covered = await db
    .selectFrom('anchor_jobs')
    .select((eb) => eb.fn.max('tree_size').as('size'))
    .where('state', '=', 'final')
    .executeTakeFirst();
  const leaf = await getLeafByIndex(db, covered?.size ?? 0);
  return leaf?.sequenced_at;
}
