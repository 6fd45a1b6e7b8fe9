import { preparedOnPostgres } from '@fieldproof/db';
import type { EngineCapabilities } from '@fieldproof/db';
import { CompiledQuery } from 'kysely';
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

/** One append to a device's tree: what {@link appendDeviceTree} writes if the head is still `heldTreeSize`. */
export interface DeviceTreeAppend {
  readonly deviceId: string;
  /** The head the append was verified against; nothing is written when the device's head has moved. */
  readonly heldTreeSize: number;
  readonly leaves: readonly NewDeviceLeaf[];
  /** Perfect nodes of level ≥ 1 the leaves complete. */
  readonly nodes: readonly DeviceNode[];
  readonly checkpoint: Insertable<DeviceCheckpointTable>;
}

/**
 * Appends leaves, nodes and the cosigned checkpoint and moves the device's head to the checkpoint, all
 * or nothing, if and only if the head is still at `heldTreeSize` (compare-and-set on `devices.tree_size`).
 * Returns false, having written nothing, when another push moved the head first. A record id mirrored at
 * another index throws the engine's unique violation, with nothing written.
 *
 * PostgreSQL: ONE autocommitted statement, because round trips are what a push costs most there (each is
 * a syscall and a wake-up on both sides, as much as a 100-row insert): the UPDATE takes the device row's
 * lock (a concurrent push for the device waits on it, then finds the head moved), and the three INSERTs
 * read the UPDATE's RETURNING, so they insert nothing unless the head moved here. The leaves and the nodes
 * arrive as one JSON text each (`json_to_recordset`): a fixed statement text of 10 parameters, whatever
 * the batch size.
 * SQLite: the same writes in one BEGIN IMMEDIATE transaction (statements cost no round trip there).
 * Inside the caller's transaction `db` (which holds the device lock) it writes there.
 */
export async function appendDeviceTree(
  db: Kysely<CollectorSchema>,
  capabilities: EngineCapabilities,
  append: DeviceTreeAppend,
): Promise<boolean> {
  const { deviceId, heldTreeSize, leaves, nodes, checkpoint } = append;
  const { tree_size: treeSize, root_hash: rootHash, received_at: now } = checkpoint;
  if (capabilities.engine === 'postgres') {
    const { rows } = await db.executeQuery<{ moved: number | string }>(
      CompiledQuery.raw(POSTGRES_APPEND, [
        deviceId,
        treeSize,
        rootHash,
        now,
        heldTreeSize,
        leavesJson(leaves),
        nodesJson(nodes),
        checkpoint.signed_note,
        checkpoint.cosignature,
        checkpoint.cosigned_at,
      ]),
    );
    return Number(rows[0]?.moved ?? 0) === 1;
  }
  const write = async (trx: Kysely<CollectorSchema>): Promise<boolean> => {
    const moved = await trx
      .updateTable('devices')
      .set({ tree_size: treeSize, root_hash: rootHash, updated_at: now })
      .where('id', '=', deviceId)
      .where('tree_size', '=', heldTreeSize)
      .executeTakeFirst();
    if (moved.numUpdatedRows !== 1n) return false;
    await insertDeviceLeaves(trx, deviceId, leaves, now);
    await insertDeviceNodes(trx, deviceId, nodes);
    await insertDeviceCheckpoint(trx, checkpoint);
    return true;
  };
  return db.isTransaction ? write(db) : db.transaction().execute(write);
}

/** {@link appendDeviceTree} on PostgreSQL (parameters in the order of its array), prepared per connection. */
const POSTGRES_APPEND = preparedOnPostgres(`WITH head AS (
  UPDATE devices SET tree_size = $2, root_hash = $3, updated_at = $4
  WHERE id = $1 AND tree_size = $5
  RETURNING id
), leaves AS (
  INSERT INTO device_leaves
    (device_id, leaf_index, leaf_hash, evidence_id, digest, record, content_stored, received_at)
  SELECT head.id, l.i, l.h, l.e, l.d, l.r::text, l.c, $4
  FROM head, json_to_recordset($6::json) AS l (i bigint, h text, e text, d text, r json, c int)
), nodes AS (
  INSERT INTO device_nodes (device_id, level, node_index, hash)
  SELECT head.id, n.l, n.i, n.h
  FROM head, json_to_recordset($7::json) AS n (l int, i bigint, h text)
), checkpoint AS (
  INSERT INTO device_checkpoints
    (device_id, tree_size, root_hash, signed_note, cosignature, cosigned_at, received_at)
  SELECT head.id, $2, $3, $8, $9, $10, $4 FROM head
)
SELECT count(*) AS moved FROM head`);

/**
 * The leaves as one JSON array of `{i, h, e, d, r, c}` for {@link POSTGRES_APPEND}, written by hand: the
 * record is JSON text already and goes in as it is (PostgreSQL's `json` keeps a value's text, so `r::text`
 * is the record exactly), where an array parameter would escape each of its quotes for PostgreSQL to
 * unescape again. Hashes and digests are validated lowercase hex; the id is a JSON string.
 */
function leavesJson(leaves: readonly NewDeviceLeaf[]): string {
  let json = '[';
  for (let k = 0; k < leaves.length; k++) {
    const l = leaves[k]!;
    if (k > 0) json += ',';
    json += `{"i":${l.leafIndex},"h":"${l.leafHash}","e":${JSON.stringify(l.evidenceId)},"d":"${l.digest}","r":${l.record},"c":${l.contentStored ? 1 : 0}}`;
  }
  return `${json}]`;
}

/** The nodes as one JSON array of `{l, i, h}` for {@link POSTGRES_APPEND}. */
function nodesJson(nodes: readonly DeviceNode[]): string {
  let json = '[';
  for (let k = 0; k < nodes.length; k++) {
    const n = nodes[k]!;
    if (k > 0) json += ',';
    json += `{"l":${n.level},"i":${n.index},"h":"${n.hash}"}`;
  }
  return `${json}]`;
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
