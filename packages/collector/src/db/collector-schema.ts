import type { ApiKeyTable, SchemaMigrationTable } from '@fieldproof/db';
import type { ColumnType } from 'kysely';

/** `devices`: enrolled units; the row is the per-device push lock and holds the mirrored tree's head. */
export interface DeviceTable {
  id: string;
  origin: string;
  verifier_key: string;
  push_key_hash: string;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
  tree_size: number;
  root_hash: string | null;
  updated_at: number;
}

/** `device_leaves`: level 0 of each device's tree with the record each leaf encodes. */
export interface DeviceLeafTable {
  device_id: string;
  leaf_index: number;
  leaf_hash: string;
  evidence_id: string;
  digest: string;
  /**
   * The record as JSON text, as the unit pushed it (its key order); rows mirrored before the collector
   * stored pushes verbatim hold RFC 8785 canonical JSON, as migration 0001's comment says. Both parse to
   * the record the leaf hash commits to.
   */
  record: string;
  content_stored: 0 | 1;
  received_at: number;
}

/** `device_nodes`: perfect-subtree hashes at level ≥ 1. */
export interface DeviceNodeTable {
  device_id: string;
  level: number;
  node_index: number;
  hash: string;
}

/** `device_checkpoints`: accepted signed checkpoints with the collector's cosignature. */
export interface DeviceCheckpointTable {
  device_id: string;
  tree_size: number;
  root_hash: string;
  signed_note: string;
  cosignature: string;
  cosigned_at: number;
  received_at: number;
  /** Migration 0005: the fleet evidence record of this checkpoint, once in the fleet database. */
  fleet_evidence_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Migration 0005: its leaf index in the fleet log, once sequenced. */
  fleet_leaf_index: ColumnType<number | null, number | null | undefined, number | null>;
}

export type EquivocationReason = 'same_size_other_root' | 'not_consistent';

/** `equivocations`: both signed checkpoints of a detected fork. */
export interface EquivocationTable {
  id: string;
  device_id: string;
  reason: EquivocationReason;
  held_tree_size: number;
  held_checkpoint: string;
  pushed_tree_size: number;
  pushed_checkpoint: string;
  consistency: string | null;
  detected_at: number;
}

/** `operator_keys` (migration 0003): keys that sign in to the collector's console. */
export interface OperatorKeyTable {
  id: string;
  key_hash: string;
  label: string | null;
  created_at: number;
  revoked_at: number | null;
}

/** `console_sessions` (migration 0003): console sign-ins; only SHA-256 of the cookie secret is stored. */
export interface CollectorConsoleSessionTable {
  token_hash: string;
  key_id: string;
  created_at: number;
  expires_at: number;
}

/** `device_anchors`: a device's pushed anchors with their verified anchor proofs (migration 0004). */
export interface DeviceAnchorTable {
  device_id: string;
  tx_hash: string;
  chain: string;
  chain_id: number;
  tree_size: number;
  block_number: number;
  block_hash: string;
  /** Unix milliseconds (the header's seconds × 1000). */
  block_timestamp: number;
  to_address: string | null;
  state: 'final' | 'lost';
  /** The FORMATS §8 anchor proof as JSON. */
  proof: string;
  received_at: number;
  updated_at: number;
}

/** The collector's database (migrations/collector/), as kysely sees it. */
export interface CollectorSchema {
  schema_migrations: SchemaMigrationTable;
  devices: DeviceTable;
  device_leaves: DeviceLeafTable;
  device_nodes: DeviceNodeTable;
  device_checkpoints: DeviceCheckpointTable;
  equivocations: EquivocationTable;
  /** Auditors' read keys (migration 0002; the unit's table shape). */
  api_keys: ApiKeyTable;
  operator_keys: OperatorKeyTable;
  console_sessions: CollectorConsoleSessionTable;
  device_anchors: DeviceAnchorTable;
}
