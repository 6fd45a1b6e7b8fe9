-- Anchor proofs (docs/FORMATS.md §8): when an anchor transaction is final, the keeper stores the proof
-- that it is in its block — the RLP header, the transaction's index and its transactions-trie proof; the
-- raw transaction itself is anchor_txs.raw_tx. One row per transaction, describing the block recorded on
-- it (block_hash equals anchor_txs.block_hash); a proof of a transaction that became 'lost' is kept as
-- history and never served. tx_proof is the JSON array of the trie nodes as 0x-hex strings, exactly the
-- format's `txProof` (1–64 nodes, about 0.2–2 KB): no engine-specific BLOB handling, served as stored.
-- Only new tables: one file serves both engines.
CREATE TABLE anchor_proofs (
  tx_id TEXT PRIMARY KEY REFERENCES anchor_txs (id),
  tx_hash TEXT NOT NULL UNIQUE,
  chain TEXT NOT NULL,
  chain_id BIGINT NOT NULL,
  block_number BIGINT NOT NULL CHECK (block_number >= 0),
  block_hash TEXT NOT NULL,
  block_timestamp BIGINT NOT NULL,
  raw_header TEXT NOT NULL,
  tx_index INTEGER NOT NULL CHECK (tx_index >= 0),
  tx_proof TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

-- The newest finalized block the keeper has seen on each chain (its finality rule: the node's
-- 'finalized' tag, or `confirmations` deep), rewritten at confirmation polls when it changed. The lower
-- end of a record's time bracket ("written after this block") will come from here.
CREATE TABLE chain_finalized_blocks (
  chain TEXT PRIMARY KEY,
  chain_id BIGINT NOT NULL,
  block_number BIGINT NOT NULL CHECK (block_number >= 0),
  block_hash TEXT NOT NULL,
  block_timestamp BIGINT NOT NULL,
  seen_at BIGINT NOT NULL
);
