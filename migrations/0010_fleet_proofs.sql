-- Fleet proofs (issue 16): what the unit got back from its fleet collectors (KEEPER_COLLECTORS entries
-- with a fleetKey) through GET /v1/devices/:origin/fleet-proofs. One row per (collector, checkpoint of
-- this unit): the fleet leaf's v2 receipt (inclusion of the device checkpoint in the collector's fleet
-- log, the signed fleet checkpoint, its anchor proofs), stored only after the keeper verified it offline
-- with the fleet key pinned and matched its device-note hash to a checkpoint this unit signed. A later
-- receipt of the same checkpoint replaces the row (a reorg re-anchored the fleet checkpoint).
CREATE TABLE fleet_proofs (
  collector TEXT NOT NULL,
  tree_size BIGINT NOT NULL REFERENCES log_checkpoints (tree_size),
  -- SHA-256 hex of the device's signed note as this unit signed it (the fleet leaf's digest).
  note_hash TEXT NOT NULL,
  -- Tree size of the fleet checkpoint the receipt proves inclusion in (informative).
  fleet_tree_size BIGINT NOT NULL,
  -- The fleet leaf's fieldproof-receipt/v2, JSON, as verified.
  receipt TEXT NOT NULL,
  -- The best state of its proven anchors ('final' once any is); what finality on the unit reads.
  state TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (collector, tree_size)
);

-- "The largest tree size fleet-final", and "the smallest fleet-final checkpoint covering leaf i".
CREATE INDEX fleet_proofs_state_tree_size ON fleet_proofs (state, tree_size);

-- Per collector: where the next fetch resumes (the collector's opaque cursor) and the last failure.
CREATE TABLE fleet_proof_cursors (
  collector TEXT PRIMARY KEY,
  cursor TEXT NOT NULL DEFAULT '',
  fetched_at BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  last_error_at BIGINT,
  -- 1: a refusal no retry fixes (a receipt that does not verify, a 4xx); fetching from it stopped.
  stopped SMALLINT NOT NULL DEFAULT 0 CHECK (stopped IN (0, 1)),
  updated_at BIGINT NOT NULL
);
