import { classifyDbError } from '@fieldproof/db/raw-sqlite';
import type { WriteRequest, WriteResult, WriteViolation } from './write-request.js';
import type { WriteSession } from './write-session.js';

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
export async function applyWritesIn(
  session: WriteSession,
  requests: readonly WriteRequest[],
): Promise<WriteResult[]> {
  await session.begin();
  try {
    const results = await applyInTransaction(session, requests);
    await session.commit();
    return results;
  } catch (err) {
    try {
      await session.rollback();
    } catch {
      // the transaction is gone already (SQLite rolls back on SQLITE_FULL); the first error is the news
    }
    throw err;
  }
}

async function applyInTransaction(
  trx: WriteSession,
  requests: readonly WriteRequest[],
): Promise<WriteResult[]> {
  const results: (WriteResult | undefined)[] = new Array<WriteResult | undefined>(requests.length);
  const plain = requests.flatMap((r, i) => (r.kind === 'evidence' ? [{ i, row: r.evidence }] : []));
  if (plain.length > 1) {
    await trx.savepoint('fast');
    try {
      await trx.appendEvidence(plain.map((p) => p.row));
      await trx.releaseSavepoint('fast');
      for (const p of plain) results[p.i] = { ok: true };
    } catch (err) {
      if (violationOf(err) === 'other') throw err;
      await trx.rollbackToSavepoint('fast');
      await trx.releaseSavepoint('fast');
    }
  }
  for (let i = 0; i < requests.length; i++) {
    if (results[i] !== undefined) continue;
    const request = requests[i]!;
    await trx.savepoint('item');
    try {
      const row = await applyOne(trx, request);
      await trx.releaseSavepoint('item');
      results[i] = { ok: true, row };
    } catch (err) {
      // Not this write's fault, and SQLite has rolled the whole transaction back: fail the batch with it.
      if (classifyDbError(err) === 'storage_full') throw err;
      await trx.rollbackToSavepoint('item');
      await trx.releaseSavepoint('item');
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

async function applyOne(trx: WriteSession, request: WriteRequest) {
  await trx.appendEvidence([request.evidence]);
  switch (request.kind) {
    case 'evidence':
      return undefined;
    case 'countermeasure':
      await trx.insertRecord('countermeasures', request.row);
      return undefined;
    case 'signal-disruption':
      await trx.insertRecord('signal_disruptions', request.row);
      return undefined;
    case 'jamming-operation':
      await trx.insertRecord('jamming_operations', request.row);
      return undefined;
    case 'jamming-operation-end':
      if (!(await trx.endJammingOperation(request.end))) throw new NotRunning();
      return trx.findJammingOperation(request.end.id);
  }
}

/** The row a failed write's violation points at, read after its savepoint was rolled back. */
async function existingRowFor(trx: WriteSession, request: WriteRequest) {
  switch (request.kind) {
    case 'evidence':
      return trx.findEvidenceByDigest(request.evidence.digest);
    case 'countermeasure':
      return trx.findByOperationId('countermeasures', request.row.operation_id);
    case 'signal-disruption':
      return request.row.operation_id == null
        ? undefined
        : trx.findByOperationId('signal_disruptions', request.row.operation_id);
    case 'jamming-operation':
      return trx.findByOperationId('jamming_operations', request.row.operation_id);
    case 'jamming-operation-end':
      return trx.findJammingOperation(request.end.id);
  }
}

function violationOf(err: unknown): WriteViolation {
  const c = classifyDbError(err);
  return c === 'retryable' || c === 'storage_full' ? 'other' : c;
}
