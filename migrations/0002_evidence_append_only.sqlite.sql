-- Evidence is append-only: the database itself refuses to change or remove a row.
-- RAISE(ABORT) surfaces as SQLITE_CONSTRAINT_TRIGGER (1811).
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
BEGIN
  SELECT RAISE(ABORT, 'evidence is append-only: UPDATE refused');
END;

CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN
  SELECT RAISE(ABORT, 'evidence is append-only: DELETE refused');
END;

-- Leaves, nodes and checkpoints are as permanent as the evidence they commit to.
CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves
BEGIN
  SELECT RAISE(ABORT, 'log_leaves is append-only: UPDATE refused');
END;

CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves
BEGIN
  SELECT RAISE(ABORT, 'log_leaves is append-only: DELETE refused');
END;

CREATE TRIGGER log_checkpoints_no_update BEFORE UPDATE ON log_checkpoints
BEGIN
  SELECT RAISE(ABORT, 'log_checkpoints is append-only: UPDATE refused');
END;

CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints
BEGIN
  SELECT RAISE(ABORT, 'log_checkpoints is append-only: DELETE refused');
END;
