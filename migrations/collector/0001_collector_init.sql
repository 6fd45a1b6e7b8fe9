-- fieldproof collector schema v1 (the collector's own database, COLLECTOR_DB_URL; never a unit's).
-- Portable SQL for PostgreSQL (the normal engine) and SQLite (one small instance): TEXT ids (UUIDv7),
-- BIGINT millisecond times and sizes, hashes as 64 lowercase hex characters, booleans as INTEGER 0/1.

-- Enrolled units. One row per log origin; the row is also the per-device push lock (SELECT … FOR UPDATE)
-- and holds the size and root of the device's tree as mirrored here (0 and NULL before the first push).
CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  origin TEXT NOT NULL UNIQUE,
  -- the unit's C2SP verifier key (type 0x01): checkpoints must be signed by it
  verifier_key TEXT NOT NULL,
  -- SHA-256 hex of the unit's push key; the key itself is shown once and never stored
  push_key_hash TEXT NOT NULL UNIQUE CHECK (length(push_key_hash) = 64),
  label TEXT,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  tree_size BIGINT NOT NULL DEFAULT 0 CHECK (tree_size >= 0),
  root_hash TEXT CHECK (root_hash IS NULL OR length(root_hash) = 64),
  updated_at BIGINT NOT NULL
);

-- Level 0 of each device's tree, with the record the leaf encodes (fieldproof-leaf/v1), as pushed.
CREATE TABLE device_leaves (
  device_id TEXT NOT NULL REFERENCES devices (id),
  leaf_index BIGINT NOT NULL CHECK (leaf_index >= 0),
  leaf_hash TEXT NOT NULL CHECK (length(leaf_hash) = 64),
  evidence_id TEXT NOT NULL,
  digest TEXT NOT NULL CHECK (length(digest) = 64),
  -- RFC 8785 canonical JSON of the whole record (id, digest, kind, times, payloadMime, metadata)
  record TEXT NOT NULL,
  content_stored INTEGER NOT NULL DEFAULT 0 CHECK (content_stored IN (0, 1)),
  received_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, leaf_index)
);
CREATE UNIQUE INDEX device_leaves_evidence ON device_leaves (device_id, evidence_id);

-- Perfect-subtree hashes at level >= 1 of each device's tree (as the unit's log_nodes).
CREATE TABLE device_nodes (
  device_id TEXT NOT NULL REFERENCES devices (id),
  level INTEGER NOT NULL CHECK (level >= 1),
  node_index BIGINT NOT NULL CHECK (node_index >= 0),
  hash TEXT NOT NULL CHECK (length(hash) = 64),
  PRIMARY KEY (device_id, level, node_index)
);

-- Every checkpoint the collector accepted, with the cosignature it answered.
CREATE TABLE device_checkpoints (
  device_id TEXT NOT NULL REFERENCES devices (id),
  tree_size BIGINT NOT NULL CHECK (tree_size >= 0),
  root_hash TEXT NOT NULL CHECK (length(root_hash) = 64),
  signed_note TEXT NOT NULL,
  -- C2SP tlog-cosignature/v1 signature line by the witness key, and its timestamp (POSIX seconds)
  cosignature TEXT NOT NULL,
  cosigned_at BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, tree_size)
);

-- Proof of a fork: a validly signed checkpoint that does not extend what the collector held. Both signed
-- notes are kept verbatim; `consistency` is the proof the unit sent (JSON array of base64), if any.
CREATE TABLE equivocations (
  id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices (id),
  reason TEXT NOT NULL CHECK (reason IN ('same_size_other_root', 'not_consistent')),
  held_tree_size BIGINT NOT NULL,
  held_checkpoint TEXT NOT NULL,
  pushed_tree_size BIGINT NOT NULL,
  pushed_checkpoint TEXT NOT NULL,
  consistency TEXT,
  detected_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX equivocations_pushed ON equivocations (device_id, pushed_tree_size, held_tree_size, pushed_checkpoint);
CREATE INDEX equivocations_device ON equivocations (device_id, id);
