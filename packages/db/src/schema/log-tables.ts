/** `log_leaves`: level 0 of the tree; append-only. */
export interface LogLeafTable {
  leaf_index: number;
  evidence_id: string;
  leaf_hash: string;
  sequenced_at: number;
}

/** `log_nodes`: perfect-subtree hashes at level ≥ 1. */
export interface LogNodeTable {
  level: number;
  node_index: number;
  hash: string;
}

/** `log_checkpoints`: one signed checkpoint per sequenced batch; append-only. */
export interface LogCheckpointTable {
  tree_size: number;
  root_hash: string;
  origin: string;
  signed_note: string;
  created_at: number;
}

/** `log_meta`: facts about this log (origin, device public key). */
export interface LogMetaTable {
  name: string;
  value: string;
  updated_at: number;
}

/** `leases`: named single-holder leases with a fencing token (created by migration 0001; no code uses it). */
export interface LeaseTable {
  name: string;
  holder: string;
  token: number;
  expires_at: number;
}
