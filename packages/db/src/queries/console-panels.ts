import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Schema } from '../schema/schema.js';

/** One bucket of evidence intake: records received and their stored content bytes. */
export interface IntakeBucket {
  /** Bucket number from `since`: bucket i covers [since + i·bucketMs, since + (i+1)·bucketMs). */
  readonly bucket: number;
  readonly records: number;
  readonly contentBytes: number;
}

/**
 * Evidence received since `since`, grouped in buckets of `bucketMs` (the console's chart and rates). One
 * range scan of the `evidence_received_at_id` index.
 */
export async function evidenceIntakeSince(
  db: Kysely<Schema>,
  since: number,
  bucketMs: number,
): Promise<IntakeBucket[]> {
  const bucket = sql<
    number | string
  >`(received_at - ${sql.lit(Math.trunc(since))}) / ${sql.lit(Math.trunc(bucketMs))}`;
  const rows = await db
    .selectFrom('evidence')
    .select([
      bucket.as('bucket'),
      (eb) => eb.fn.countAll<number | string>().as('n'),
      (eb) => eb.fn.sum<number | string | null>(eb.fn.coalesce('payload_size', sql.lit(0))).as('bytes'),
    ])
    .where('received_at', '>=', since)
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .execute();
  return rows.map((r) => ({
    bucket: Math.floor(Number(r.bucket)),
    records: Number(r.n),
    contentBytes: Number(r.bytes ?? 0),
  }));
}

/** The newest evidence record by reception (the console links the record count to it). */
export async function newestEvidenceId(db: Kysely<Schema>): Promise<string | undefined> {
  const row = await db
    .selectFrom('evidence')
    .select('id')
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}
