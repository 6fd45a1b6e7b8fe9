-- On SQLite the keeper sequences evidence in rowid order after its own watermark instead of draining
-- sequence_queue: the api writes one row (and its indexes) per digest instead of two, and the keeper
-- deletes nothing. SQLite has one writer at a time and evidence is append-only, so a new row always gets
-- a rowid above every committed one: rowid order is commit order, and "rowid > watermark" skips nothing.
-- (PostgreSQL keeps the queue: its transactions commit out of id order.)
--
-- The watermark is the rowid of the evidence behind the newest leaf, or of the row recorded here,
-- whichever is larger (both looked up by evidence id, so a VACUUM that renumbers rowids in order changes
-- nothing). Everything at or below this row was written before the migration and is either sequenced or
-- still queued: the keeper drains those queued rows first, as before, and then reads by rowid.
-- O(1): no table is rebuilt or rewritten.
INSERT INTO log_meta (name, value, updated_at)
SELECT 'sequence_rowid_base',
       COALESCE((SELECT id FROM evidence ORDER BY rowid DESC LIMIT 1), ''),
       CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);

-- New queue rows would be sequenced twice (once from the queue, once by rowid): refuse them, so that an
-- api older than this migration fails loudly instead.
CREATE TRIGGER sequence_queue_closed BEFORE INSERT ON sequence_queue
BEGIN
  SELECT RAISE(ABORT, 'sequence_queue takes no new rows on SQLite since migration 0007: evidence is sequenced in rowid order');
END;
