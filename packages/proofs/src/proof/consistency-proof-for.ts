import type { Schema } from '@fieldproof/db';
import { consistencyProofNodes } from '@fieldproof/merkle';
import type { Hash } from '@fieldproof/merkle';
import type { Kysely } from 'kysely';
import { readProof } from './read-proof.js';

/**
 * The RFC 9162 consistency proof from the tree of `size1` leaves to that of `size2`, read from the log
 * store with one query for O(log n) nodes. The empty tree is a prefix of every tree: `size1 = 0` gives
 * the empty proof, as does `size1 = size2`.
 * Preconditions: `size1 ≤ size2` (else the merkle package's `SizeOrderError`) and the store holds at
 * least `size2` leaves (else {@link LogInconsistencyError}).
 */
export async function consistencyProofFor(db: Kysely<Schema>, size1: number, size2: number): Promise<Hash[]> {
  if (size1 === 0 && Number.isSafeInteger(size2) && size2 >= 0) return [];
  return readProof(db, consistencyProofNodes(size1, size2), size2);
}
