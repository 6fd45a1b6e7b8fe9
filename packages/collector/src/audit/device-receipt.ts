import { buildReceipt, verifyReceiptOffline } from '@fieldproof/receipt';
import type { EvidenceRecord, Receipt } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';
import type { CollectorSchema } from '../db/collector-schema.js';
import { findDeviceLeafByEvidenceId, getDeviceCheckpoint } from '../db/device-tree.js';
import type { DeviceRow } from '../db/devices.js';
import { MirrorInconsistencyError } from '../push/apply-push.js';
import { deviceInclusionProof } from './device-proofs.js';

/** The record is not (yet) mirrored for this device. */
export class MirroredEvidenceNotFoundError extends Error {
  override readonly name = 'MirroredEvidenceNotFoundError';
}

/**
 * The receipt of one mirrored record, built from the collector's database alone (the unit may be gone),
 * with the ONE receipt builder (`buildReceipt`, packages/receipt) the unit uses. It proves inclusion in
 * the held head — the newest checkpoint the collector cosigned — and its `checkpoint.note` is that
 * checkpoint as cosigned: the unit's signed note with the collector's `cosignature/v1` line appended (a
 * C2SP note with one more signature: it still opens under the unit's key, and the cosignature checks
 * under the collector's witness key). The receipt is verified offline before it is returned, so a mirror
 * that disagrees with itself fails here ({@link MirrorInconsistencyError}), never at an auditor's.
 */
export async function deviceReceipt(
  db: Kysely<CollectorSchema>,
  device: DeviceRow,
  evidenceId: string,
): Promise<Receipt> {
  const leaf = await findDeviceLeafByEvidenceId(db, device.id, evidenceId);
  if (leaf === undefined || leaf.leaf_index >= device.tree_size) {
    throw new MirroredEvidenceNotFoundError(`no record ${evidenceId} mirrored for ${device.origin}`);
  }
  const checkpoint = await getDeviceCheckpoint(db, device.id, device.tree_size);
  if (checkpoint === undefined) {
    throw new MirrorInconsistencyError(
      `${device.origin}: no checkpoint of the held size ${device.tree_size}`,
    );
  }
  const receipt = buildReceipt({
    format: 'fieldproof-receipt/v1',
    evidence: JSON.parse(leaf.record) as EvidenceRecord,
    leafIndex: leaf.leaf_index,
    inclusionProof: await deviceInclusionProof(db, device.id, leaf.leaf_index, device.tree_size),
    checkpointNote: checkpoint.signed_note + checkpoint.cosignature,
    devicePublicKey: device.verifier_key,
    anchors: [],
  });
  const verification = verifyReceiptOffline(receipt);
  if (!verification.ok) {
    const broken = verification.links
      .filter((l) => l.status === 'failed')
      .map((l) => `${l.link}: ${l.detail}`)
      .join('; ');
    throw new MirrorInconsistencyError(
      `the receipt of ${evidenceId} from the mirror does not verify: ${broken}`,
    );
  }
  return receipt;
}
