-- An anchor the chain no longer has after it was final (a chain reset, a reorg deeper than finality) is
-- 'lost': the job and its transaction keep that state as history, and a new job anchors the checkpoint
-- again. So (chain, tree_size) is unique only among jobs that are not lost.
ALTER TABLE anchor_jobs DROP CONSTRAINT anchor_jobs_state_check;
ALTER TABLE anchor_jobs ADD CONSTRAINT anchor_jobs_state_check
  CHECK (state IN ('pending', 'signed', 'broadcast', 'included', 'confirmed', 'final', 'failed', 'dead', 'lost'));
ALTER TABLE anchor_jobs DROP CONSTRAINT anchor_jobs_chain_tree_size_key;
CREATE UNIQUE INDEX anchor_jobs_chain_tree_size ON anchor_jobs (chain, tree_size) WHERE state <> 'lost';

ALTER TABLE anchor_txs DROP CONSTRAINT anchor_txs_state_check;
ALTER TABLE anchor_txs ADD CONSTRAINT anchor_txs_state_check
  CHECK (state IN ('signed', 'broadcast', 'included', 'confirmed', 'final', 'replaced', 'dropped', 'reorged', 'failed', 'lost'));
