import type { Kysely } from 'kysely';
import type { Schema } from '../schema/schema.js';

/** Names kept in `log_meta`. */
export const LOG_META = {
  /** The checkpoint origin line of this device's log. */
  origin: 'origin',
  /** The device's verifier key (C2SP vkey form). */
  verifierKey: 'verifier_key',
} as const;

export async function getLogMeta(db: Kysely<Schema>, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('log_meta').select('value').where('name', '=', name).executeTakeFirst();
  return row?.value;
}

/** Sets a value only if none is set; returns the value in force afterwards. */
export async function initLogMeta(
  db: Kysely<Schema>,
  name: string,
  value: string,
  now: number,
): Promise<string> {
  await db
    .insertInto('log_meta')
    .values({ name, value, updated_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return (await getLogMeta(db, name)) ?? value;
}
