-- Nothing changes on PostgreSQL: its transactions commit out of id order, so a scan "after my watermark"
-- would skip a row whose transaction commits late. The api keeps writing a sequence_queue row per
-- evidence row and the keeper keeps draining it (see the SQLite file of this migration).
SELECT 1;
