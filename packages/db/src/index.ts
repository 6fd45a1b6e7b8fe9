export * from './database.js';
export * from './ids.js';
export * from './errors/classify-db-error.js';
export * from './url/resolve-database-url.js';
export * from './sqlite/open-sqlite.js';
export * from './sqlite/sqlite-immediate-dialect.js';
export * from './workers/start-worker.js';
export * from './queries/evidence-columns.js';
export * from './postgres/create-postgres-pool.js';
export { preparedOnPostgres } from './postgres/prepared-statements.js';
export * from './migrations/load-migrations.js';
export * from './migrations/migrator.js';
export * from './migrations/open-migrated-database.js';
export type * from './schema/schema.js';
export type * from './schema/evidence-table.js';
export type * from './schema/log-tables.js';
export type * from './schema/record-tables.js';
export type * from './schema/anchor-tables.js';
export {
  ACTIVE_ANCHOR_JOB_STATES,
  ANCHOR_JOB_STATE_RANK,
  ANCHOR_JOB_STATES,
  ANCHOR_TX_STATES,
  CURRENT_ANCHOR_TX_STATES,
  ENDED_ANCHOR_JOB_STATES,
  LIVE_ANCHOR_TX_STATES,
  MINED_ANCHOR_JOB_STATES,
  SETTLED_ANCHOR_JOB_STATES,
  UNMINED_ANCHOR_TX_STATES,
  UNSIGNED_ANCHOR_JOB_STATES,
} from './schema/anchor-tables.js';
export type * from './schema/api-key-table.js';
export * from './queries/api-keys.js';
export * from './queries/console-sessions.js';
export * from './queries/console-panels.js';
export type * from './schema/console-session-table.js';
export * from './api-keys/api-key-secret.js';
export * from './queries/log-meta.js';
export * from './queries/log/index.js';
export * from './queries/keyset.js';
export * from './queries/evidence.js';
export * from './queries/anchoring-status.js';
export * from './queries/record-list.js';
export * from './queries/countermeasures.js';
export * from './queries/signal-disruptions.js';
export * from './queries/jamming-operations.js';
export * from './queries/anchors/index.js';
export * from './queries/final-anchors.js';
export * from './queries/anchor-proofs.js';
export * from './queries/chain-finalized-blocks.js';
export * from './backup/backup-database.js';
export * from './backup/wal-checkpoint.js';
export * from './queries/receipts.js';
export * from './queries/collector-push.js';
export type * from './schema/collector-push-tables.js';
export * from './queries/fleet-proofs.js';
export type * from './schema/fleet-proof-tables.js';
export * from './backup/restore-database.js';
export * from './backup/backup-manifest.js';
export * from './backup/backup-names.js';
export * from './backup/create-backup-archive.js';
export * from './backup/restore-backup-archive.js';
