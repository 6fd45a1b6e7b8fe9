// TEMPORARY: the contract's fleet leaf functions (FLEET-CONTRACT §1) until wip/fleet-receipt's
// packages/receipt/src/fleet/ is merged; then this file goes and the imports move to @fieldproof/receipt.
import { createHash } from 'node:crypto';
import { parseCheckpoint, parseSignedNote } from '@fieldproof/note';
import type { EvidenceRecord } from '@fieldproof/receipt';

export const FLEET_LEAF_KIND = 'device-checkpoint';

/** Lowercase hex SHA-256 of the UTF-8 bytes of the device's signed note, exactly as the device signed it. */
export function deviceNoteHash(signedNote: string): string {
  return createHash('sha256').update(signedNote, 'utf8').digest('hex');
}

/** The fleet record of one device checkpoint. */
export function fleetLeafRecordOf(input: {
  id: string;
  signedNote: string;
  receivedAt: number;
}): EvidenceRecord {
  const checkpoint = parseCheckpoint(parseSignedNote(input.signedNote).text);
  return {
    id: input.id,
    digest: deviceNoteHash(input.signedNote),
    kind: FLEET_LEAF_KIND,
    occurredAt: input.receivedAt,
    receivedAt: input.receivedAt,
    payloadMime: null,
    metadata: {
      origin: checkpoint.origin,
      treeSize: checkpoint.treeSize,
      root: Buffer.from(checkpoint.root).toString('hex'),
    },
  };
}
