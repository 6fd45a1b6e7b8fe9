/** `collector_push_state`: one row per configured collector, what it acknowledged and the last failure. */
export interface CollectorPushStateTable {
  collector: string;
  acked_tree_size: number;
  acked_at: number | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  last_error_at: number | null;
  /** 1: a refusal no retry fixes (equivocation, a 4xx); pushing to this collector stopped. */
  stopped: 0 | 1;
  updated_at: number;
}

/** `collector_cosignatures`: verified cosignature/v1 lines per collector and checkpoint. */
export interface CollectorCosignatureTable {
  collector: string;
  tree_size: number;
  witness_key: string;
  cosignature: string;
  /** POSIX seconds in the cosignature. */
  cosigned_at: number;
  stored_at: number;
}

/** `collector_anchor_acks` (migration 0011): what each collector acknowledged of each anchor transaction. */
export interface CollectorAnchorAckTable {
  collector: string;
  tx_hash: string;
  /** `state:blockHash` of the anchor when the collector took it. */
  acked_key: string;
  acked_at: number;
}
