-- Receipts and evidence reads look anchors up by checkpoint size ("the anchors of checkpoint N",
-- "anchors covering leaf i" = tree_size > i); UNIQUE (chain, tree_size) cannot serve those.
CREATE INDEX anchor_jobs_tree_size ON anchor_jobs (tree_size);
