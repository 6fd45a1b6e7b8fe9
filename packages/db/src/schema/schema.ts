import type {
  AnchorJobTable,
  AnchorProofTable,
  AnchorTxTable,
  ChainAccountTable,
  ChainFinalizedBlockTable,
} from './anchor-tables.js';
import type {
  CollectorAnchorAckTable,
  CollectorCosignatureTable,
  CollectorPushStateTable,
} from './collector-push-tables.js';
import type { ApiKeyTable } from './api-key-table.js';
import type { ConsoleSessionTable } from './console-session-table.js';
import type { FleetProofCursorTable, FleetProofTable } from './fleet-proof-tables.js';
import type { EvidenceTable, SequenceQueueTable } from './evidence-table.js';
import type {
  LeaseTable,
  LogCheckpointTable,
  LogLeafTable,
  LogMetaTable,
  LogNodeTable,
} from './log-tables.js';
import type { CountermeasureTable, JammingOperationTable, SignalDisruptionTable } from './record-tables.js';

/** `schema_migrations`: what the migrator applied. */
export interface SchemaMigrationTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: number;
}

/** The whole database, as kysely sees it. Column names are the SQL ones (snake_case). */
export interface Schema {
  schema_migrations: SchemaMigrationTable;
  evidence: EvidenceTable;
  sequence_queue: SequenceQueueTable;
  log_leaves: LogLeafTable;
  log_nodes: LogNodeTable;
  log_checkpoints: LogCheckpointTable;
  log_meta: LogMetaTable;
  leases: LeaseTable;
  countermeasures: CountermeasureTable;
  signal_disruptions: SignalDisruptionTable;
  jamming_operations: JammingOperationTable;
  anchor_jobs: AnchorJobTable;
  anchor_txs: AnchorTxTable;
  chain_accounts: ChainAccountTable;
  anchor_proofs: AnchorProofTable;
  chain_finalized_blocks: ChainFinalizedBlockTable;
  api_keys: ApiKeyTable;
  collector_push_state: CollectorPushStateTable;
  collector_cosignatures: CollectorCosignatureTable;
  collector_anchor_acks: CollectorAnchorAckTable;
  console_sessions: ConsoleSessionTable;
  fleet_proofs: FleetProofTable;
  fleet_proof_cursors: FleetProofCursorTable;
}
