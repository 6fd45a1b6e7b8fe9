import {
  RECEIPT_FORMAT,
  buildReceipt,
  verifyAnchorProof,
  verifyReceiptOffline,
  verifyReceiptV2Offline,
} from '@fieldproof/receipt';
import type { EvidenceRecord, Receipt, ReceiptAnchor, ReceiptV2 } from '@fieldproof/receipt';
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

/** What the collector's receipt route needs besides the database. */
export interface DeviceReceiptOptions {
  /** The collector's witness verifier key (`ctx.cosigner.verifierKey`): the key its cosignatures check under. */
  readonly witnessKey: string;
  /**
   * Default `fieldproof-receipt/v2`; `fieldproof-receipt/v1` (`?format=v1`, as the unit's api) for holders
   * of an older verifier: the cosignature line appended to the note, anchors as claims without proofs.
   */
  readonly format?: 'fieldproof-receipt/v1' | 'fieldproof-receipt/v2';
}

/**
 * The receipt of one mirrored record, built from the collector's database alone (the unit may be gone),
 * with the ONE receipt builder (`buildReceipt`, packages/receipt) the unit uses. It proves inclusion in
 * the held head — the newest checkpoint the collector cosigned — or, when the unit pushed final anchors
 * of a checkpoint that includes the record, in the newest such checkpoint (the unit's rule).
 *
 * `fieldproof-receipt/v2` (the default): the unit's signed note is the `checkpoint` step, the collector's
 * C2SP `tlog-cosignature` line a `cosignature` step under its witness key (`fieldproof verify
 * --witness-key` requires it), and each final anchor a branch proven from its block header by the anchor
 * proof the unit pushed (re-checked here). v1: the note with the cosignature line appended (it still
 * opens under the unit's key) and the anchors as claims.
 *
 * The receipt is verified offline before it is returned, so a mirror that disagrees with itself fails
 * here ({@link MirrorInconsistencyError}), never at an auditor's.
 */
export async function deviceReceipt(
  db: Kysely<CollectorSchema>,
  device: DeviceRow,
  evidenceId: string,
  options: DeviceReceiptOptions,
): Promise<Receipt | ReceiptV2> {
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
  const common = {
    evidence: JSON.parse(leaf.record) as EvidenceRecord,
    leafIndex: leaf.leaf_index,
    inclusionProof: await deviceInclusionProof(db, device.id, leaf.leaf_index, treeSize),
    devicePublicKey: device.verifier_key,
    anchors: anchored.map(receiptAnchor),
  };
  const receipt =
    options.format === RECEIPT_FORMAT
      ? buildReceipt({
          ...common,
          format: RECEIPT_FORMAT,
          checkpointNote: checkpoint.signed_note + checkpoint.cosignature,
        })
      : buildReceipt({
          ...common,
          checkpointNote: checkpoint.signed_note,
          cosignatures: [{ witnessKey: options.witnessKey, line: checkpoint.cosignature }],
          anchorProofs: anchored.map(checkedProof),
        });
  const verification =
    receipt.format === RECEIPT_FORMAT
      ? verifyReceiptOffline(receipt)
      : verifyReceiptV2Offline(receipt, { witnessKeys: [options.witnessKey] });
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
