import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { EngineCapabilities } from '../../database.js';
import type { Schema } from '../../schema/schema.js';

/** pg_try_advisory_xact_lock key of the sequencer: "fieldproof sequencer". */
export const SEQUENCER_LOCK_KEY = 7_266_047_261_540_103;

/**
 * Makes the current write transaction the only one that sequences. Call first thing inside the
 * transaction; returns false when another keeper is sequencing right now (do nothing, try later).
 *
 * - Single-writer engines (SQLite): the transaction's write lock (BEGIN IMMEDIATE) already excludes
 *   every other writer, so this is a no-op.
 * - PostgreSQL: a transaction-scoped advisory lock, taken without waiting. It is released by the
 *   engine at COMMIT/ROLLBACK or when the holder's connection dies, so it needs no expiry clock and no
 *   fencing: nothing the holder writes can outlive the lock, because the writes commit with it.
 */
export async function tryLockSequencer(
  trx: Kysely<Schema>,
  capabilities: EngineCapabilities,
): Promise<boolean> {
  if (capabilities.singleWriter) return true;
  const result = await sql<{
    locked: boolean;
  }>`SELECT pg_try_advisory_xact_lock(${SEQUENCER_LOCK_KEY}) AS locked`.execute(trx);
  return result.rows[0]?.locked === true;
}
