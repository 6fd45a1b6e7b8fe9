import {
  appendEvidence,
  classifyDbError,
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
import type { ControlledTransaction, Kysely } from 'kysely';
import type { WriteRequest, WriteResult, WriteViolation } from './write-request.js';

/**
 * Applies a batch of writes in ONE transaction and commits it; resolves with one result per write, in
 * order, only once the commit returned (throws — nothing acknowledged — when the transaction fails).
 *
 *   BEGIN (IMMEDIATE on SQLite)
 *     SAVEPOINT fast; INSERT all plain evidence rows; INSERT their queue rows; RELEASE   ← usual case
 *       on a constraint violation: ROLLBACK TO fast, then take those writes one by one
 *     for each other write:  SAVEPOINT item; write; RELEASE
 *       on an error:         ROLLBACK TO item; read the row the violation points at (see WriteResult)
 *   COMMIT
 *
 * Savepoints rather than check-then-insert: only they are right on PostgreSQL with several replicas
 * (another replica may insert the same digest between a check and an insert, and any error aborts a
 * PostgreSQL transaction unless rolled back to a savepoint). The multi-row fast path exists because
 * per-statement overhead, not the fsync, dominates a large batch. Violations are classified from the
 * driver's constraint codes (classifyDbError), never from message text.
 */
export async function applyWrites(
  db: Kysely<Schema>,
  requests: readonly WriteRequest[],
): Promise<WriteResult[]> {
  const trx = await db.startTransaction().execute();
  try {
    const results = await applyInTransaction(trx, requests);
    await trx.commit().execute();
    return results;
  } catch (err) {
    await trx
      .rollback()
      .execute()
      .catch(() => undefined);
    throw err;
  }
}

async function applyInTransaction(
  trx: ControlledTransaction<Schema>,
  requests: readonly WriteRequest[],
): Promise<WriteResult[]> {
  const results: (WriteResult | undefined)[] = new Array<WriteResult | undefined>(requests.length);
  const plain = requests.flatMap((r, i) => (r.kind === 'evidence' ? [{ i, row: r.evidence }] : []));
  if (plain.length > 1) {
    const sp = await trx.savepoint('fast').execute();
    try {
      await appendEvidence(
        sp,
        plain.map((p) => p.row),
      );
      await sp.releaseSavepoint('fast').execute();
      for (const p of plain) results[p.i] = { ok: true };
    } catch (err) {
      if (violationOf(err) === 'other') throw err;
      await sp.rollbackToSavepoint('fast').execute();
      await sp.releaseSavepoint('fast').execute();
    }
  }
  for (let i = 0; i < requests.length; i++) {
    if (results[i] !== undefined) continue;
    const request = requests[i]!;
    const sp = await trx.savepoint('item').execute();
    try {
      const row = await applyOne(sp, request);
      await sp.releaseSavepoint('item').execute();
      results[i] = { ok: true, row };
    } catch (err) {
      // Not this write's fault, and SQLite has rolled the whole transaction back: fail the batch with it.
      if (classifyDbError(err) === 'storage_full') throw err;
      await sp.rollbackToSavepoint('item').execute();
      await sp.releaseSavepoint('item').execute();
      const violation = err instanceof NotRunning ? 'not_running' : violationOf(err);
      results[i] = {
        ok: false,
        violation,
        existing: await existingRowFor(trx, request),
        ...(violation === 'other' ? { message: err instanceof Error ? err.message : String(err) } : {}),
      };
    }
  }
  return results as WriteResult[];
}

/** The conditional UPDATE ending an operation matched no running operation. */
class NotRunning extends Error {}

async function applyOne(trx: Kysely<Schema>, request: WriteRequest) {
  await appendEvidence(trx, [request.evidence]);
  switch (request.kind) {
    case 'evidence':
      return undefined;
    case 'countermeasure':
      await insertCountermeasure(trx, request.row);
      return undefined;
    case 'signal-disruption':
      await insertSignalDisruption(trx, request.row);
      return undefined;
    case 'jamming-operation':
      await insertJammingOperation(trx, request.row);
      return undefined;
    case 'jamming-operation-end':
      if (!(await endJammingOperation(trx, request.end))) throw new NotRunning();
      return findJammingOperation(trx, request.end.id);
  }
}

/** The row a failed write's violation points at, read after its savepoint was rolled back. */
async function existingRowFor(trx: Kysely<Schema>, request: WriteRequest) {
  switch (request.kind) {
    case 'evidence':
      return findEvidenceByDigest(trx, request.evidence.digest);
    case 'countermeasure':
      return findCountermeasureByOperationId(trx, request.row.operation_id);
    case 'signal-disruption':
      return request.row.operation_id == null
        ? undefined
        : findSignalDisruptionByOperationId(trx, request.row.operation_id);
    case 'jamming-operation':
      return findJammingOperationByOperationId(trx, request.row.operation_id);
    case 'jamming-operation-end':
      return findJammingOperation(trx, request.end.id);
  }
}

function violationOf(err: unknown): WriteViolation {
  const c = classifyDbError(err);
  return c === 'retryable' || c === 'storage_full' ? 'other' : c;
}
