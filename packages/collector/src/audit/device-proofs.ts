import {
  buildProof,
  consistencyProofNodes,
  fromHex,
  inclusionProofNodes,
  MissingNodeError,
} from '@fieldproof/merkle';
import type { Hash, ProofElement } from '@fieldproof/merkle';
import type { Kysely } from 'kysely';
import type { CollectorSchema } from '../db/collector-schema.js';
import { getDeviceNodes } from '../db/device-tree.js';
import { MirrorInconsistencyError } from '../push/apply-push.js';

/**
 * RFC 9162 proofs out of a device's mirrored tree (device_leaves + device_nodes), as packages/proofs reads
 * them out of a unit's log_nodes: which nodes from packages/merkle, one query for the O(log n) of them.
 * A node the mirror lacks below its held size is {@link MirrorInconsistencyError}.
 */
export async function deviceInclusionProof(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  leafIndex: number,
  treeSize: number,
): Promise<Hash[]> {
  return readDeviceProof(db, deviceId, inclusionProofNodes(leafIndex, treeSize));
}

export async function deviceConsistencyProof(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  size1: number,
  size2: number,
): Promise<Hash[]> {
  if (size1 === 0 || size1 === size2) return [];
  return readDeviceProof(db, deviceId, consistencyProofNodes(size1, size2));
}

async function readDeviceProof(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  elements: readonly ProofElement[],
): Promise<Hash[]> {
  if (elements.length === 0) return [];
  const rows = await getDeviceNodes(db, deviceId, elements.flat());
  const byId = new Map(rows.map((r) => [`${r.level}/${r.index}`, r.hash]));
  try {
    return buildProof(elements, (level, index) => {
      const hash = byId.get(`${level}/${index}`);
      return hash === undefined ? undefined : fromHex(hash);
    });
  } catch (err) {
    if (err instanceof MissingNodeError) {
      throw new MirrorInconsistencyError(
        `device ${deviceId}: a proof needs a node the mirror lacks (${err.message})`,
      );
    }
    throw err;
  }
}
