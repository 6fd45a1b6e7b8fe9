-- Fleet anchoring (issue 16, docs/COLLECTOR.md "Fleet anchoring"): every cosigned device checkpoint
-- becomes one evidence record of the fleet log (a unit-shaped database of its own). `fleet_evidence_id`
-- is that record's id once it is in the fleet database, `fleet_leaf_index` its leaf index once the fleet
-- sequencer gave it one. Both stay NULL without fleet anchoring. The intake task finds the rows still
-- waiting (fleet_leaf_index IS NULL) through the partial index, so a crash between cosigning and the
-- fleet insert loses nothing; the fleet-proofs route finds a device's leaves in a fleet index range.
-- Only new columns and indexes: one file serves both engines.
ALTER TABLE device_checkpoints ADD COLUMN fleet_evidence_id TEXT;
ALTER TABLE device_checkpoints ADD COLUMN fleet_leaf_index BIGINT;
CREATE INDEX device_checkpoints_fleet_waiting ON device_checkpoints (received_at) WHERE fleet_leaf_index IS NULL;
CREATE INDEX device_checkpoints_fleet_leaf ON device_checkpoints (device_id, fleet_leaf_index);
