-- Anchors of mirrored devices (issue 15, "a receipt from the collector carries anchors"): each final anchor
-- a unit pushed, with the anchor proof it stored (docs/FORMATS.md §8), checked by the collector before it
-- is kept — the proof verifies against its own header, its transaction carries an FPA1 payload naming a
-- checkpoint this collector holds for the device (same origin, size and root). `state` is the unit's
-- word: 'final', or 'lost' once the unit pushed that the chain no longer has it (reorg or reset; a lost
-- anchor is kept as history and never put in a receipt). A transaction that moved to another block
-- replaces its row (the proof describes the block on the row). Numbered 0004: another branch adds a
-- collector 0002; the migrator accepts gaps. Only a new table: one file serves both engines.
CREATE TABLE device_anchors (
  device_id TEXT NOT NULL REFERENCES devices (id),
  tx_hash TEXT NOT NULL,
  chain TEXT NOT NULL,
  chain_id BIGINT NOT NULL,
  tree_size BIGINT NOT NULL CHECK (tree_size > 0),
  block_number BIGINT NOT NULL CHECK (block_number >= 0),
  block_hash TEXT NOT NULL,
  block_timestamp BIGINT NOT NULL,
  to_address TEXT,
  state TEXT NOT NULL CHECK (state IN ('final', 'lost')),
  proof TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, tx_hash)
);

-- Receipts look up the final anchors of the smallest anchored checkpoint that includes a leaf.
CREATE INDEX device_anchors_tree_size ON device_anchors (device_id, state, tree_size);
