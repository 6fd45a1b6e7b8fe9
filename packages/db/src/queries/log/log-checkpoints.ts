import type { Kysely, Selectable } from 'kysely';
import type { LogCheckpointTable } from '../../schema/log-tables.js';
import type { Schema } from '../../schema/schema.js';

export type LogCheckpointRow = Selectable<LogCheckpointTable>;

export interface NewCheckpoint {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly origin: string;
  readonly signedNote: string;
  readonly createdAt: number;
}

export async function insertCheckpoint(db: Kysely<Schema>, checkpoint: NewCheckpoint): Promise<void> {
  await db
    .insertInto('log_checkpoints')
    .values({
      tree_size: checkpoint.treeSize,
      root_hash: checkpoint.rootHash,
      origin: checkpoint.origin,
      signed_note: checkpoint.signedNote,
      created_at: checkpoint.createdAt,
    })
    .execute();
}

/** The checkpoint of the largest tree, if any (the primary key's last entry). */
export async function getLatestCheckpoint(db: Kysely<Schema>): Promise<LogCheckpointRow | undefined> {
  return db
    .selectFrom('log_checkpoints')
    .selectAll()
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The checkpoint of exactly `treeSize` leaves, if one was written. */
export async function getCheckpoint(
  db: Kysely<Schema>,
  treeSize: number,
): Promise<LogCheckpointRow | undefined> {
  return db.selectFrom('log_checkpoints').selectAll().where('tree_size', '=', treeSize).executeTakeFirst();
}
