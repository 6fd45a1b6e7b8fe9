-- fieldproof schema v1. Portable SQL for SQLite and PostgreSQL:
-- TEXT ids (UUIDv7, time-sortable), BIGINT millisecond times, hashes as 64 lowercase hex characters,
-- booleans as INTEGER 0/1. Engine-specific parts live in files named NNNN_name.<engine>.sql.

-- Evidence: append-only (UPDATE/DELETE are rejected by triggers in 0002).
CREATE TABLE evidence (
  id TEXT PRIMARY KEY,
  digest TEXT NOT NULL UNIQUE CHECK (length(digest) = 64),
  kind TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  -- how the digest was obtained: 'digest' (client computed), 'json' (server canonicalised and hashed),
  -- 'bytes' (server streamed and hashed), 'record' (an operational record's own entry)
  source TEXT NOT NULL CHECK (source IN ('digest', 'json', 'bytes', 'record')),
  occurred_at BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  payload_mime TEXT,
  payload_size BIGINT,
  payload_json TEXT,
  metadata TEXT,
  content_stored INTEGER NOT NULL DEFAULT 0 CHECK (content_stored IN (0, 1))
);
CREATE INDEX evidence_kind_id ON evidence (kind, id);
CREATE INDEX evidence_received_at_id ON evidence (received_at, id);
CREATE INDEX evidence_occurred_at_id ON evidence (occurred_at, id);

-- Evidence written but not yet given a leaf index. Written in the same transaction as the evidence row;
-- the sequencer drains it in id order (UUIDv7: intake order) and deletes what it sequenced.
-- Keeping the queue apart keeps evidence append-only and the sequencer's scan small.
CREATE TABLE sequence_queue (
  evidence_id TEXT PRIMARY KEY REFERENCES evidence (id),
  enqueued_at BIGINT NOT NULL
);

-- The Merkle log. A leaf is an evidence record's position; leaf_hash is the RFC 6962 leaf hash of its
-- fieldproof-leaf/v1 encoding.
CREATE TABLE log_leaves (
  leaf_index BIGINT PRIMARY KEY CHECK (leaf_index >= 0),
  evidence_id TEXT NOT NULL UNIQUE REFERENCES evidence (id),
  leaf_hash TEXT NOT NULL CHECK (length(leaf_hash) = 64),
  sequenced_at BIGINT NOT NULL
);

-- Perfect-subtree hashes at level >= 1: node (level, node_index) covers leaves
-- [node_index * 2^level, (node_index + 1) * 2^level). Level 0 is log_leaves.
CREATE TABLE log_nodes (
  level INTEGER NOT NULL CHECK (level >= 1 AND level < 64),
  node_index BIGINT NOT NULL CHECK (node_index >= 0),
  hash TEXT NOT NULL CHECK (length(hash) = 64),
  PRIMARY KEY (level, node_index)
);

-- One signed checkpoint per sequenced batch.
CREATE TABLE log_checkpoints (
  tree_size BIGINT PRIMARY KEY CHECK (tree_size >= 0),
  root_hash TEXT NOT NULL CHECK (length(root_hash) = 64),
  origin TEXT NOT NULL,
  signed_note TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- Small key/value facts about this log and device (origin, device public key, ...).
CREATE TABLE log_meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Named leases: exactly one holder at a time (e.g. the sequencer on PostgreSQL with several keepers).
-- token grows on every (re)acquisition and fences out a holder whose lease expired.
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  token BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);

-- Operational records. Each also writes its own evidence entry (evidence_id) in the same transaction;
-- related_evidence_id is an optional reference to existing evidence (unknown id -> FOREIGN KEY violation).
CREATE TABLE countermeasures (
  id TEXT PRIMARY KEY,
  operation_id TEXT NOT NULL UNIQUE,
  evidence_id TEXT NOT NULL UNIQUE REFERENCES evidence (id),
  related_evidence_id TEXT REFERENCES evidence (id),
  countermeasure_type TEXT NOT NULL,
  target TEXT,
  deployed_at BIGINT NOT NULL,
  latitude DOUBLE PRECISION,
  longitude DOUBLE PRECISION,
  authorized_by TEXT,
  notes TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX countermeasures_deployed_at_id ON countermeasures (deployed_at, id);

CREATE TABLE signal_disruptions (
  id TEXT PRIMARY KEY,
  operation_id TEXT UNIQUE,
  evidence_id TEXT NOT NULL UNIQUE REFERENCES evidence (id),
  related_evidence_id TEXT REFERENCES evidence (id),
  occurred_at BIGINT NOT NULL,
  frequency_low_hz BIGINT NOT NULL CHECK (frequency_low_hz >= 0),
  frequency_high_hz BIGINT NOT NULL CHECK (frequency_high_hz >= frequency_low_hz),
  duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0),
  affected_systems TEXT,
  cause TEXT NOT NULL,
  notes TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX signal_disruptions_occurred_at_id ON signal_disruptions (occurred_at, id);

-- A jamming operation is created when it starts and ended later (ended_at, success_metric).
-- The row is mutable; each change is also recorded as its own append-only evidence entry.
CREATE TABLE jamming_operations (
  id TEXT PRIMARY KEY,
  operation_id TEXT NOT NULL UNIQUE,
  evidence_id TEXT NOT NULL UNIQUE REFERENCES evidence (id),
  end_evidence_id TEXT UNIQUE REFERENCES evidence (id),
  related_evidence_id TEXT REFERENCES evidence (id),
  frequency_low_hz BIGINT NOT NULL CHECK (frequency_low_hz >= 0),
  frequency_high_hz BIGINT NOT NULL CHECK (frequency_high_hz >= frequency_low_hz),
  power_dbm DOUBLE PRECISION,
  target TEXT,
  authorized_by TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT CHECK (ended_at IS NULL OR ended_at >= started_at),
  success_metric DOUBLE PRECISION CHECK (success_metric IS NULL OR (success_metric >= 0 AND success_metric <= 1)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX jamming_operations_started_at_id ON jamming_operations (started_at, id);

-- The anchoring outbox: one job per (checkpoint, chain).
--   pending -> signed -> broadcast -> included -> confirmed -> final
--   any non-final -> failed (temporary, retried after next_attempt_at) -> ... -> dead (attempts exhausted
--   or a permanent error). A reorged or dropped transaction sends the job back to pending.
-- lease_token fences: a worker may only write a job while its token is still the current one.
CREATE TABLE anchor_jobs (
  id TEXT PRIMARY KEY,
  chain TEXT NOT NULL,
  chain_id BIGINT NOT NULL,
  tree_size BIGINT NOT NULL REFERENCES log_checkpoints (tree_size),
  state TEXT NOT NULL CHECK (state IN ('pending', 'signed', 'broadcast', 'included', 'confirmed', 'final', 'failed', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  lease_token BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (chain, tree_size)
);
CREATE INDEX anchor_jobs_state_next ON anchor_jobs (state, next_attempt_at);

-- Every transaction the keeper signed for a job, persisted BEFORE broadcast (raw bytes, hash, nonce),
-- so a restart reconciles by hash instead of sending a second anchor. A fee bump adds a row with the
-- same nonce; the old row becomes 'replaced'.
CREATE TABLE anchor_txs (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES anchor_jobs (id),
  chain TEXT NOT NULL,
  chain_id BIGINT NOT NULL,
  from_address TEXT NOT NULL,
  nonce BIGINT NOT NULL CHECK (nonce >= 0),
  tx_hash TEXT NOT NULL UNIQUE,
  raw_tx TEXT NOT NULL,
  max_fee_per_gas TEXT NOT NULL,
  max_priority_fee_per_gas TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('signed', 'broadcast', 'included', 'confirmed', 'final', 'replaced', 'dropped', 'reorged', 'failed')),
  block_number BIGINT,
  block_hash TEXT,
  block_timestamp BIGINT,
  gas_used TEXT,
  effective_gas_price TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX anchor_txs_job ON anchor_txs (job_id);
CREATE INDEX anchor_txs_chain_nonce ON anchor_txs (chain, nonce);

-- Local nonce management per chain and sender.
CREATE TABLE chain_accounts (
  chain TEXT NOT NULL,
  address TEXT NOT NULL,
  chain_id BIGINT NOT NULL,
  next_nonce BIGINT NOT NULL CHECK (next_nonce >= 0),
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (chain, address)
);

-- API keys: only a SHA-256 hash of the secret is stored. scopes is a comma-separated subset of
-- read,write,admin.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
  label TEXT,
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
