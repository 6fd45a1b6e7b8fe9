-- The time bracket's lower end (docs/FORMATS.md §1.2, fieldproof-leaf/v2). New evidence rows record
-- which leaf format they are encoded in, the newest finalized block the api knew when it accepted them
-- (written after that block) and whether the api's clock looked wrong then. Rows written before this
-- migration are fieldproof-leaf/v1 (the default), with no block and no flag: their leaf hashes do not
-- change. ADD COLUMN is no UPDATE: the append-only triggers of 0002 do not fire. SQLite cannot add a
-- table constraint, so the rule across columns is the last column's CHECK (checked on every insert).
ALTER TABLE evidence ADD COLUMN leaf_version INTEGER NOT NULL DEFAULT 1 CHECK (leaf_version IN (1, 2));
ALTER TABLE evidence ADD COLUMN not_before_chain_id BIGINT CHECK (not_before_chain_id >= 1);
ALTER TABLE evidence ADD COLUMN not_before_number BIGINT CHECK (not_before_number >= 0);
ALTER TABLE evidence ADD COLUMN not_before_hash TEXT CHECK (length(not_before_hash) = 66);
ALTER TABLE evidence ADD COLUMN not_before_timestamp BIGINT CHECK (not_before_timestamp >= 0);
-- v1: no block, no flag; v2: a flag, and the block's four columns all set or all null.
ALTER TABLE evidence ADD COLUMN clock_suspect INTEGER CHECK (
  CASE leaf_version
    WHEN 1 THEN clock_suspect IS NULL AND not_before_chain_id IS NULL AND not_before_number IS NULL
      AND not_before_hash IS NULL AND not_before_timestamp IS NULL
    ELSE clock_suspect IS NOT NULL AND clock_suspect IN (0, 1) AND (
      (not_before_chain_id IS NULL AND not_before_number IS NULL AND not_before_hash IS NULL
        AND not_before_timestamp IS NULL)
      OR (not_before_chain_id IS NOT NULL AND not_before_number IS NOT NULL AND not_before_hash IS NOT NULL
        AND not_before_timestamp IS NOT NULL))
  END
);
