import type {
  CountermeasureRow,
  EvidenceRow,
  JammingOperationEnd,
  JammingOperationRow,
  NewEvidence,
  SignalDisruptionRow,
} from '@fieldproof/db/raw-sqlite';

/** A record table a write inserts into besides `evidence`. */
export type RecordTableName = 'countermeasures' | 'signal_disruptions' | 'jamming_operations';

type Sync<T> = T | Promise<T>;

/**
 * The statements applyWrites runs, on one connection: through kysely on the main thread (PostgreSQL, and
 * tests), through better-sqlite3 directly on the SQLite writer thread (no kysely there: ~22 MB less per
 * thread). Either may answer synchronously. Errors are the driver's own (classifyDbError reads their codes).
 */
export interface WriteSession {
  /** BEGIN (IMMEDIATE on SQLite). */
  begin(): Sync<void>;
  commit(): Sync<void>;
  rollback(): Sync<void>;
  savepoint(name: string): Sync<void>;
  releaseSavepoint(name: string): Sync<void>;
  rollbackToSavepoint(name: string): Sync<void>;
  /** Evidence rows, multi-row (with their queue rows on PostgreSQL): see appendEvidence. */
  appendEvidence(rows: readonly NewEvidence[]): Sync<void>;
  insertRecord(table: RecordTableName, row: object): Sync<void>;
  /** The conditional UPDATE ending a running operation; false when none matched. */
  endJammingOperation(end: JammingOperationEnd): Sync<boolean>;
  findJammingOperation(id: string): Sync<JammingOperationRow | undefined>;
  findEvidenceByDigest(digest: string): Sync<EvidenceRow | undefined>;
  findByOperationId(
    table: RecordTableName,
    operationId: string,
  ): Sync<CountermeasureRow | SignalDisruptionRow | JammingOperationRow | undefined>;
}
