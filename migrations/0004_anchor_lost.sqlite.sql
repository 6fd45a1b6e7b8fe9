-- An anchor the chain no longer has after it was final (a chain reset, a reorg deeper than finality) is
-- 'lost': the job and its transaction keep that state as history, and a new job anchors the checkpoint
-- again. So (chain, tree_size) is unique only among jobs that are not lost.
--
-- SQLite cannot alter a CHECK or drop a table's UNIQUE constraint: both tables are rebuilt (the
-- documented "make a new table, copy, drop, rename" procedure). anchor_txs refers to anchor_jobs, so it
-- is set aside first: no step ever leaves a foreign key dangling, and foreign_keys stays ON.
CREATE TABLE anchor_txs_copy AS SELECT * FROM anchor_txs;
DROP TABLE anchor_txs;

CREATE TABLE anchor_jobs_new (
  id TEXT PRIMARY KEY,
  chain TEXT NOT NULL,
  chain_id BIGINT NOT NULL,
  tree_size BIGINT NOT NULL REFERENCES log_checkpoints (tree_size),
  state TEXT NOT NULL CHECK (state IN ('pending', 'signed', 'broadcast', 'included', 'confirmed', 'final', 'failed', 'dead', 'lost')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  lease_token BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
INSERT INTO anchor_jobs_new (id, chain, chain_id, tree_size, state, attempts, next_attempt_at, lease_owner,
  lease_expires_at, lease_token, last_error, created_at, updated_at)
SELECT id, chain, chain_id, tree_size, state, attempts, next_attempt_at, lease_owner,
  lease_expires_at, lease_token, last_error, created_at, updated_at
FROM anchor_jobs;
DROP TABLE anchor_jobs;
ALTER TABLE anchor_jobs_new RENAME TO anchor_jobs;
CREATE UNIQUE INDEX anchor_jobs_chain_tree_size ON anchor_jobs (chain, tree_size) WHERE state <> 'lost';
CREATE INDEX anchor_jobs_state_next ON anchor_jobs (state, next_attempt_at);
CREATE INDEX anchor_jobs_tree_size ON anchor_jobs (tree_size);

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
  state TEXT NOT NULL CHECK (state IN ('signed', 'broadcast', 'included', 'confirmed', 'final', 'replaced', 'dropped', 'reorged', 'failed', 'lost')),
  block_number BIGINT,
  block_hash TEXT,
  block_timestamp BIGINT,
  gas_used TEXT,
  effective_gas_price TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
INSERT INTO anchor_txs (id, job_id, chain, chain_id, from_address, nonce, tx_hash, raw_tx, max_fee_per_gas,
  max_priority_fee_per_gas, state, block_number, block_hash, block_timestamp, gas_used, effective_gas_price,
  created_at, updated_at)
SELECT id, job_id, chain, chain_id, from_address, nonce, tx_hash, raw_tx, max_fee_per_gas,
  max_priority_fee_per_gas, state, block_number, block_hash, block_timestamp, gas_used, effective_gas_price,
  created_at, updated_at
FROM anchor_txs_copy;
DROP TABLE anchor_txs_copy;
CREATE INDEX anchor_txs_job ON anchor_txs (job_id);
CREATE INDEX anchor_txs_chain_nonce ON anchor_txs (chain, nonce);
