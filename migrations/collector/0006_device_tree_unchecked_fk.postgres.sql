-- The push path's per-row cost (issue 15, "leaves ingested per second ≥ 0.5× the raw insert ceiling").
-- On PostgreSQL a foreign key is a trigger that runs one lookup of the devices row per inserted row: for
-- a push of 100 leaves that completes ~100 nodes, 200 lookups that cost, measured with EXPLAIN ANALYZE on
-- the append statement (packages/collector/src/db/device-tree.ts), a third of its execution time. The
-- only writer of device_leaves and device_nodes is that statement, whose INSERTs take the device id from
-- the devices row its own UPDATE just locked and moved, and a device is never deleted (revoking sets
-- revoked_at): the constraint can never fail there, so it goes. device_checkpoints keeps its key (one row
-- per push). Numbered 0006: another branch adds a collector 0005; the migrator accepts gaps.
ALTER TABLE device_leaves DROP CONSTRAINT device_leaves_device_id_fkey;
ALTER TABLE device_nodes DROP CONSTRAINT device_nodes_device_id_fkey;
