// The verifiable log, one file per table (graphile-worker's src/sql/*.ts, atproto's helpers/*.ts):
// the sequence queue, leaves (level 0), perfect nodes (level ≥ 1), checkpoints, and the sequencer's
// mutual exclusion. Bulk writes: queries/bulk-statement.ts.
export * from './leaf-columns.js';
export * from './sequence-queue.js';
export * from './log-leaves.js';
export * from './log-nodes.js';
export * from './log-checkpoints.js';
export * from './oldest-unanchored-leaf.js';
export * from './sequencer-lock.js';
