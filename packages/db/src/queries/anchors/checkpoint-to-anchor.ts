import type { Kysely } from 'kysely';
import type { Schema } from '../../schema/schema.js';

/** The checkpoint an anchor publishes: origin, size and root (hex). */
export interface AnchorCheckpoint {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly origin: string;
  readonly createdAt: number;
}

/** The newest checkpoint (largest tree), if any. One primary-key read. */
export async function findNewestCheckpointToAnchor(
  db: Kysely<Schema>,
): Promise<AnchorCheckpoint | undefined> {
  return db
    .selectFrom('log_checkpoints')
    .select(['tree_size as treeSize', 'root_hash as rootHash', 'origin', 'created_at as createdAt'])
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The checkpoint of exactly `treeSize` leaves. */
export async function findCheckpointToAnchor(
  db: Kysely<Schema>,
  treeSize: number,
): Promise<AnchorCheckpoint | undefined> {
  return db
    .selectFrom('log_checkpoints')
    .select(['tree_size as treeSize', 'root_hash as rootHash', 'origin', 'created_at as createdAt'])
    .where('tree_size', '=', treeSize)
    .executeTakeFirst();
}

/** When leaf `leafIndex` was sequenced (ms), if it exists. */
export async function leafSequencedAt(db: Kysely<Schema>, leafIndex: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('log_leaves')
    .select('sequenced_at')
    .where('leaf_index', '=', leafIndex)
    .executeTakeFirst();
  return row?.sequenced_at;
}
