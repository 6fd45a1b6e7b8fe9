import {
  appendEvidence,
  endJammingOperation,
  findCountermeasureByOperationId,
  findEvidenceByDigest,
  findJammingOperation,
  findJammingOperationByOperationId,
  findSignalDisruptionByOperationId,
  insertCountermeasure,
  insertJammingOperation,
  insertSignalDisruption,
} from '@fieldproof/db';
import type { Schema } from '@fieldproof/db';
import { sql } from 'kysely';
import type { ControlledTransaction, Kysely } from 'kysely';
import { applyWritesIn } from './apply-writes.js';
import type { WriteRequest, WriteResult } from './write-request.js';
import type { RecordTableName, WriteSession } from './write-session.js';

/** applyWrites through kysely, on this thread: PostgreSQL's executor (and tests, on either engine). */
export async function applyWrites(
  db: Kysely<Schema>,
  requests: readonly WriteRequest[],
): Promise<WriteResult[]> {
  return applyWritesIn(kyselyWriteSession(db), requests);
}

/** The record tables' queries, by table. */
const RECORD_QUERIES = {
  countermeasures: { insert: insertCountermeasure, findByOperationId: findCountermeasureByOperationId },
  signal_disruptions: {
    insert: insertSignalDisruption,
    findByOperationId: findSignalDisruptionByOperationId,
  },
  jamming_operations: {
    insert: insertJammingOperation,
    findByOperationId: findJammingOperationByOperationId,
  },
} as const;

/** A WriteSession on a kysely transaction of `db` (begun by begin()). */
function kyselyWriteSession(db: Kysely<Schema>): WriteSession {
  let trx: ControlledTransaction<Schema> | undefined;
  const t = (): ControlledTransaction<Schema> => {
    if (trx === undefined) throw new Error('bug: write session used outside its transaction');
    return trx;
  };
  const run = async (statement: string) => {
    await sql.raw(statement).execute(t());
  };
  return {
    async begin() {
      trx = await db.startTransaction().execute();
    },
    async commit() {
      await t().commit().execute();
    },
    async rollback() {
      await t().rollback().execute();
    },
    savepoint: (name) => run(`SAVEPOINT ${name}`),
    releaseSavepoint: (name) => run(`RELEASE SAVEPOINT ${name}`),
    rollbackToSavepoint: (name) => run(`ROLLBACK TO SAVEPOINT ${name}`),
    appendEvidence: (rows) => appendEvidence(t(), rows),
    insertRecord: (table: RecordTableName, row: object) => RECORD_QUERIES[table].insert(t(), row as never),
    endJammingOperation: (end) => endJammingOperation(t(), end),
    findJammingOperation: (id) => findJammingOperation(t(), id),
    findEvidenceByDigest: (digest) => findEvidenceByDigest(t(), digest),
    findByOperationId: (table, operationId) => RECORD_QUERIES[table].findByOperationId(t(), operationId),
  };
}
