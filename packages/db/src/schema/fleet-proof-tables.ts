/** `fleet_proofs`: one verified fleet-leaf receipt per (collector, checkpoint of this unit). */
export interface FleetProofTable {
  collector: string;
  tree_size: number;
  /** SHA-256 hex of the device's signed note (the fleet leaf's digest). */
  note_hash: string;
  fleet_tree_size: number;
  /** The fleet leaf's `fieldproof-receipt/v2` JSON. */
  receipt: string;
  /** Best state of its proven anchors (`final` once any is). */
  state: string;
  updated_at: number;
}

/** `fleet_proof_cursors`: where fetching fleet proofs from a collector resumes, and its last failure. */
export interface FleetProofCursorTable {
  collector: string;
  cursor: string;
  fetched_at: number | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  last_error_at: number | null;
  /** 1: a refusal no retry fixes; fetching from this collector stopped until the keeper restarts. */
  stopped: 0 | 1;
  updated_at: number;
}
