import type { Kysely, Selectable } from 'kysely';
import type { CollectorSchema, EquivocationTable } from './collector-schema.js';

export type EquivocationRow = Selectable<EquivocationTable>;

/** Keeps the proof of a fork; the same fork pushed again is kept once. */
export async function insertEquivocation(db: Kysely<CollectorSchema>, row: EquivocationRow): Promise<void> {
  await db
    .insertInto('equivocations')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['device_id', 'pushed_tree_size', 'held_tree_size', 'pushed_checkpoint']).doNothing(),
    )
    .execute();
}

export async function listEquivocations(
  db: Kysely<CollectorSchema>,
  deviceId: string,
): Promise<EquivocationRow[]> {
  const rows = await db
    .selectFrom('equivocations')
    .selectAll()
    .where('device_id', '=', deviceId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    ...r,
    held_tree_size: Number(r.held_tree_size),
    pushed_tree_size: Number(r.pushed_tree_size),
    detected_at: Number(r.detected_at),
  }));
}
