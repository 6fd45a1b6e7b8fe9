import { buildReceipt, verifyReceiptOffline } from '@fieldproof/receipt';
import { verifyAnchorProof } from '@fieldproof/receipt';
import type { EvidenceRecord, Receipt, ReceiptAnchor } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';
import type { CollectorSchema } from '../db/collector-schema.js';
import { finalAnchorsIncluding } from '../db/device-anchors.js';
import type { DeviceAnchor } from '../db/device-anchors.js';
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
 * under the collector's witness key). When the unit pushed final anchors of a checkpoint that includes the
 * record, the receipt proves inclusion in the newest such checkpoint instead (the unit's rule) and carries its anchors
 * (their stored anchor proofs are re-checked here; `anchorProofs` is what a v2 receipt embeds).
 * The receipt is verified offline before it is returned, so a mirror
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
  const anchored = await finalAnchorsIncluding(db, device.id, leaf.leaf_index, device.tree_size);
  const treeSize = anchored[0]?.treeSize ?? device.tree_size;
  const checkpoint = await getDeviceCheckpoint(db, device.id, treeSize);
  if (checkpoint === undefined) {
    throw new MirrorInconsistencyError(`${device.origin}: no checkpoint of the tree size ${treeSize}`);
  }
  const anchorProofs = anchored.map((a) => checkedProof(a));
  const receipt = buildReceipt({
    format: 'fieldproof-receipt/v1',
    evidence: JSON.parse(leaf.record) as EvidenceRecord,
    leafIndex: leaf.leaf_index,
    inclusionProof: await deviceInclusionProof(db, device.id, leaf.leaf_index, treeSize),
    checkpointNote: checkpoint.signed_note + checkpoint.cosignature,
    devicePublicKey: device.verifier_key,
    anchors: anchored.map(receiptAnchor),
  });
  void anchorProofs; // receipt v2 (another branch) takes them: `anchorProofs` in buildReceipt's parts
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

/** A stored anchor as a `fieldproof-receipt` anchor (the unit's fields for a final anchor). */
function receiptAnchor(anchor: DeviceAnchor): ReceiptAnchor {
  return {
    chain: anchor.chain,
    chainId: anchor.chainId,
    txHash: anchor.txHash,
    blockNumber: anchor.blockNumber,
    blockHash: anchor.blockHash,
    blockTimestamp: anchor.blockTimestamp,
    state: anchor.state,
    ...(anchor.to === null ? {} : { to: anchor.to }),
  };
}

/** The stored proof, verified again (it was at push time): a damaged row fails here, not at an auditor's. */
function checkedProof(anchor: DeviceAnchor) {
  try {
    const verified = verifyAnchorProof(anchor.proof);
    if (verified.txHash !== anchor.txHash) throw new Error(`it is of ${verified.txHash}`);
  } catch (err) {
    throw new MirrorInconsistencyError(
      `the stored proof of anchor ${anchor.txHash} does not verify: ${(err as Error).message}`,
    );
  }
  return anchor.proof;
}
