// Kysely-free and erasable TypeScript: the SQLite writer thread runs it (see startWorker).
import type BetterSqlite3 from 'better-sqlite3';
import {
  EVIDENCE_COLUMNS,
  EVIDENCE_INSERT_MAX_ROWS,
  bulkChunkRows,
  evidenceValues,
} from '@fieldproof/db/raw-sqlite';
import type { NewEvidence } from '@fieldproof/db/raw-sqlite';
import type { RecordTableName, WriteSession } from './write-session.js';

/**
 * A WriteSession on a better-sqlite3 connection: the SQLite writer thread's (no kysely there). Every
 * statement is prepared once and kept: the same bulk idiom as runBulk (multi-row evidence inserts in
 * power-of-two chunks), with the texts built here from the same column list. On SQLite an evidence row
 * has no queue row (migration 0007). Synchronous, like the driver.
 */
export function sqliteWriteSession(db: BetterSqlite3.Database): WriteSession {
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (text: string): BetterSqlite3.Statement => {
    let stmt = statements.get(text);
    if (stmt === undefined) {
      stmt = db.prepare(text);
      statements.set(text, stmt);
    }
    return stmt;
  };
  const exec = (text: string): void => {
    prepared(text).run();
  };
  const evidenceTuple = `(${EVIDENCE_COLUMNS.map(() => '?').join(', ')})`;
  const evidenceInsert = (n: number): string =>
    `INSERT INTO "evidence" (${EVIDENCE_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${new Array<string>(n).fill(evidenceTuple).join(', ')}`;
  return {
    begin: () => exec('BEGIN IMMEDIATE'),
    commit: () => exec('COMMIT'),
    rollback: () => {
      if (db.inTransaction) exec('ROLLBACK');
    },
    savepoint: (name) => exec(`SAVEPOINT ${name}`),
    releaseSavepoint: (name) => exec(`RELEASE SAVEPOINT ${name}`),
    rollbackToSavepoint: (name) => exec(`ROLLBACK TO SAVEPOINT ${name}`),
    appendEvidence(rows: readonly NewEvidence[]) {
      for (let start = 0; start < rows.length;) {
        const n = bulkChunkRows(rows.length - start, EVIDENCE_INSERT_MAX_ROWS);
        const params: unknown[] = [];
        for (let i = start; i < start + n; i++) params.push(...evidenceValues(rows[i]!));
        prepared(evidenceInsert(n)).run(params);
        start += n;
      }
    },
    insertRecord(table: RecordTableName, row: object) {
      // The row's own columns, bound by name: what it leaves out takes the column's default.
      const columns = Object.keys(row);
      prepared(
        `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
      ).run(row);
    },
    endJammingOperation: (end) =>
      prepared(
        'UPDATE "jamming_operations" SET "ended_at" = ?, "success_metric" = ?, "end_evidence_id" = ?, "updated_at" = ? WHERE "id" = ? AND "ended_at" IS NULL',
      ).run(end.endedAt, end.successMetric, end.endEvidenceId, end.updatedAt, end.id).changes > 0,
    findJammingOperation: (id) =>
      prepared('SELECT * FROM "jamming_operations" WHERE "id" = ?').get(id) as never,
    findEvidenceByDigest: (digest) =>
      prepared('SELECT * FROM "evidence" WHERE "digest" = ?').get(digest) as never,
    findByOperationId: (table, operationId) =>
      prepared(`SELECT * FROM "${table}" WHERE "operation_id" = ?`).get(operationId) as never,
  };
}
