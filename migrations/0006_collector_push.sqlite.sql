-- The unit's side of the fleet collector (issue 15): what each configured collector acknowledged, and
-- the cosignatures it returned. The collector's own state (GET /v1/devices/:origin) is the truth a push
-- resumes from; these rows are what the unit shows (GET /v1/collectors) and what receipts will carry.
CREATE TABLE collector_push_state (
  collector TEXT PRIMARY KEY,
  acked_tree_size BIGINT NOT NULL DEFAULT 0,
  acked_at BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  last_error_at BIGINT,
  stopped INTEGER NOT NULL DEFAULT 0 CHECK (stopped IN (0, 1)),
  updated_at BIGINT NOT NULL
);

-- One verified cosignature per (collector, checkpoint): the cosignature/v1 line and its timestamp.
CREATE TABLE collector_cosignatures (
  collector TEXT NOT NULL,
  tree_size BIGINT NOT NULL REFERENCES log_checkpoints (tree_size),
  witness_key TEXT NOT NULL,
  cosignature TEXT NOT NULL,
  cosigned_at BIGINT NOT NULL,
  stored_at BIGINT NOT NULL,
  PRIMARY KEY (collector, tree_size)
);
