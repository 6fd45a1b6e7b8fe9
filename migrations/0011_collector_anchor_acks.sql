-- The anchors each configured collector took (issue 15, "anchors"): one row per collector and anchor
-- transaction, with what it acknowledged of it — its state and block (`state:blockHash`). The push outbox
-- sends an anchor only while this differs (new, lost since, or moved to another block), so a keeper
-- restart re-sends none. Only a new table: one file serves both engines.
CREATE TABLE collector_anchor_acks (
  collector TEXT NOT NULL,
  -- 0x + 64 lowercase hex, as pushed
  tx_hash TEXT NOT NULL,
  acked_key TEXT NOT NULL,
  acked_at BIGINT NOT NULL,
  PRIMARY KEY (collector, tx_hash)
);
