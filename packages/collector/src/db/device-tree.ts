import type { Insertable, Kysely, Selectable } from 'kysely';
import type { CollectorSchema, DeviceCheckpointTable, DeviceLeafTable } from './collector-schema.js';

/**
 * Queries of the mirrored device trees: leaves (level 0, with their records), perfect nodes (level ≥ 1)
 * and accepted checkpoints — the unit's log_leaves / log_nodes / log_checkpoints, keyed by device.
 * Hashes are 64 lowercase hex characters. Bulk writes are multi-row INSERTs in chunks small enough for
 * both engines' parameter limits (8 columns × 500 rows = 4000).
 */
const CHUNK = 500;

export type DeviceLeafRow = Selectable<DeviceLeafTable>;
export type DeviceCheckpointRow = Selectable<DeviceCheckpointTable>;

export interface NewDeviceLeaf {
  readonly leafIndex: number;
  readonly leafHash: string;
  readonly evidenceId: string;
  readonly digest: string;
  readonly record: string;
  readonly contentStored: boolean;
}

export interface DeviceNode {
  readonly level: number;
  readonly index: number;
  readonly hash: string;
}

export async function insertDeviceLeaves(
  trx: Kysely<CollectorSchema>,
  deviceId: string,
  leaves: readonly NewDeviceLeaf[],
  receivedAt: number,
): Promise<void> {
  for (let i = 0; i < leaves.length; i += CHUNK) {
    await trx
      .insertInto('device_leaves')
      .values(
        leaves.slice(i, i + CHUNK).map((l) => ({
          device_id: deviceId,
          leaf_index: l.leafIndex,
          leaf_hash: l.leafHash,
          evidence_id: l.evidenceId,
          digest: l.digest,
          record: l.record,
          content_stored: l.contentStored ? 1 : 0,
          received_at: receivedAt,
        })),
      )
      .execute();
  }
}

export async function insertDeviceNodes(
  trx: Kysely<CollectorSchema>,
  deviceId: string,
  nodes: readonly DeviceNode[],
): Promise<void> {
  for (let i = 0; i < nodes.length; i += CHUNK) {
    await trx
      .insertInto('device_nodes')
      .values(
        nodes
          .slice(i, i + CHUNK)
          .map((n) => ({ device_id: deviceId, level: n.level, node_index: n.index, hash: n.hash })),
      )
      .execute();
  }
}

/**
 * The stored perfect nodes among `ids` (level 0 from device_leaves, level ≥ 1 from device_nodes); ids not
 * stored are absent. Used with `frontierNodes(size)`: O(log n) primary-key reads in two statements.
 */
export async function getDeviceNodes(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  ids: readonly { readonly level: number; readonly index: number }[],
): Promise<DeviceNode[]> {
  const leafIndices = ids.filter((id) => id.level === 0).map((id) => id.index);
  const inner = ids.filter((id) => id.level > 0);
  const out: DeviceNode[] = [];
  if (leafIndices.length > 0) {
    const rows = await db
      .selectFrom('device_leaves')
      .select(['leaf_index', 'leaf_hash'])
      .where('device_id', '=', deviceId)
      .where('leaf_index', 'in', leafIndices)
      .execute();
    for (const r of rows) out.push({ level: 0, index: Number(r.leaf_index), hash: r.leaf_hash });
  }
  if (inner.length > 0) {
    const rows = await db
      .selectFrom('device_nodes')
      .select(['level', 'node_index', 'hash'])
      .where('device_id', '=', deviceId)
      .where((eb) =>
        eb.or(inner.map((id) => eb.and([eb('level', '=', id.level), eb('node_index', '=', id.index)]))),
      )
      .execute();
    for (const r of rows) out.push({ level: Number(r.level), index: Number(r.node_index), hash: r.hash });
  }
  return out;
}

/** Leaf hashes of `[begin, end)` in index order (for comparing a re-sent batch with what is stored). */
export async function getDeviceLeafHashes(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  begin: number,
  end: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom('device_leaves')
    .select('leaf_hash')
    .where('device_id', '=', deviceId)
    .where('leaf_index', '>=', begin)
    .where('leaf_index', '<', end)
    .orderBy('leaf_index')
    .execute();
  return rows.map((r) => r.leaf_hash);
}

export async function countDeviceLeaves(db: Kysely<CollectorSchema>, deviceId: string): Promise<number> {
  const row = await db
    .selectFrom('device_leaves')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('device_id', '=', deviceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertDeviceCheckpoint(
  trx: Kysely<CollectorSchema>,
  checkpoint: Insertable<DeviceCheckpointTable>,
): Promise<void> {
  await trx.insertInto('device_checkpoints').values(checkpoint).execute();
}

export async function getDeviceCheckpoint(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  treeSize: number,
): Promise<DeviceCheckpointRow | undefined> {
  const row = await db
    .selectFrom('device_checkpoints')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('tree_size', '=', treeSize)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : {
        ...row,
        tree_size: Number(row.tree_size),
        cosigned_at: Number(row.cosigned_at),
        received_at: Number(row.received_at),
      };
}

/** One mirrored leaf with its record (the auditor's read routes). */
export async function findDeviceLeafByEvidenceId(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  evidenceId: string,
): Promise<DeviceLeafRow | undefined> {
  const row = await db
    .selectFrom('device_leaves')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('evidence_id', '=', evidenceId)
    .executeTakeFirst();
  return row === undefined ? undefined : normaliseLeaf(row);
}

/** Mirrored leaves `[from, from + limit)` in index order. */
export async function listDeviceLeaves(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  from: number,
  limit: number,
): Promise<DeviceLeafRow[]> {
  const rows = await db
    .selectFrom('device_leaves')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('leaf_index', '>=', from)
    .orderBy('leaf_index')
    .limit(limit)
    .execute();
  return rows.map(normaliseLeaf);
}

/** Whether a leaf of this device names `digest` with its content mirrored (content is served only then). */
export async function deviceHasContent(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  digest: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('device_leaves')
    .select('leaf_index')
    .where('device_id', '=', deviceId)
    .where('digest', '=', digest)
    .where('content_stored', '=', 1)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

function normaliseLeaf(row: DeviceLeafRow): DeviceLeafRow {
  return {
    ...row,
    leaf_index: Number(row.leaf_index),
    received_at: Number(row.received_at),
    content_stored: Number(row.content_stored) === 1 ? 1 : 0,
  };
}
