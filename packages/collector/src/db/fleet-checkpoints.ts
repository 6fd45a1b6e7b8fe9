import type { Kysely } from 'kysely';
import type { CollectorSchema } from './collector-schema.js';

/**
 * Queries of the collector's side of fleet intake (migration 0005): which cosigned device checkpoints
 * are not in the fleet log yet, and where a device's checkpoints sit in it.
 */

/** A cosigned device checkpoint still waiting for its fleet leaf index. */
export interface WaitingCheckpoint {
  readonly deviceId: string;
  readonly treeSize: number;
  readonly signedNote: string;
  readonly receivedAt: number;
  readonly fleetEvidenceId: string | null;
}

/** Up to `limit` cosigned checkpoints without a fleet leaf index, oldest first (the partial index). */
export async function listWaitingCheckpoints(
  db: Kysely<CollectorSchema>,
  limit: number,
): Promise<WaitingCheckpoint[]> {
  const rows = await db
    .selectFrom('device_checkpoints')
    .select(['device_id', 'tree_size', 'signed_note', 'received_at', 'fleet_evidence_id'])
    .where('fleet_leaf_index', 'is', null)
    .orderBy('received_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    deviceId: r.device_id,
    treeSize: Number(r.tree_size),
    signedNote: r.signed_note,
    receivedAt: Number(r.received_at),
    fleetEvidenceId: r.fleet_evidence_id,
  }));
}

/**
 * Records where a checkpoint is in the fleet log: its fleet evidence id, and its leaf index once
 * sequenced. Idempotent: every replica that finds the same record writes the same values.
 */
export async function setFleetPosition(
  db: Kysely<CollectorSchema>,
  checkpoint: { readonly deviceId: string; readonly treeSize: number },
  position: { readonly evidenceId: string; readonly leafIndex: number | null },
): Promise<void> {
  await db
    .updateTable('device_checkpoints')
    .set({ fleet_evidence_id: position.evidenceId, fleet_leaf_index: position.leafIndex })
    .where('device_id', '=', checkpoint.deviceId)
    .where('tree_size', '=', checkpoint.treeSize)
    .where('fleet_leaf_index', 'is', null)
    .execute();
}

/** A device's checkpoints whose fleet leaves lie in `[fromLeaf, toLeaf)`, by tree size. */
export async function listDeviceCheckpointsInFleetRange(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  range: { readonly fromLeaf: number; readonly toLeaf: number; readonly afterTreeSize: number },
  limit: number,
): Promise<{ treeSize: number; signedNote: string; fleetEvidenceId: string; fleetLeafIndex: number }[]> {
  const rows = await db
    .selectFrom('device_checkpoints')
    .select(['tree_size', 'signed_note', 'fleet_evidence_id', 'fleet_leaf_index'])
    .where('device_id', '=', deviceId)
    .where('fleet_leaf_index', '>=', range.fromLeaf)
    .where('fleet_leaf_index', '<', range.toLeaf)
    .where('tree_size', '>', range.afterTreeSize)
    .orderBy('tree_size')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    treeSize: Number(r.tree_size),
    signedNote: r.signed_note,
    fleetEvidenceId: r.fleet_evidence_id!,
    fleetLeafIndex: Number(r.fleet_leaf_index),
  }));
}
