import { getNodes } from '@fieldproof/db';
import type { Schema } from '@fieldproof/db';
import { MissingNodeError, buildProof, fromHex } from '@fieldproof/merkle';
import type { Hash, ProofElement } from '@fieldproof/merkle';
import type { Kysely } from 'kysely';
import { LogInconsistencyError } from '../errors.js';

/**
 * Builds the proof that `elements` describe from stored nodes, with ONE query for all of them
 * (O(log n) primary-key reads). A node the store lacks means the log is broken below a size it signed:
 * {@link LogInconsistencyError}, with the merkle error as `cause`.
 */
export async function readProof(db: Kysely<Schema>, elements: readonly ProofElement[]): Promise<Hash[]> {
  if (elements.length === 0) return [];
  const rows = await getNodes(db, elements.flat());
  const byId = new Map(rows.map((r) => [nodeKey(r.level, r.index), r.hash]));
  try {
    return buildProof(elements, (level, index) => {
      const hash = byId.get(nodeKey(level, index));
      return hash === undefined ? undefined : fromHex(hash);
    });
  } catch (err) {
    if (err instanceof MissingNodeError) {
      throw new LogInconsistencyError(`the log store lacks a node a proof needs: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
}

function nodeKey(level: number, index: number): string {
  return `${level}/${index}`;
}
