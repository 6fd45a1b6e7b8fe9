import { toHex } from '@fieldproof/merkle';
import type { Hash } from '@fieldproof/merkle';
import { NoteError, openCheckpoint } from '@fieldproof/note';
import {
  AnchorPayloadError,
  AnchorProofError,
  decodeAnchorPayload,
  leafHashOf,
  ReceiptError,
  verifyAnchorProof,
} from '@fieldproof/receipt';
import type { AnchorProof } from '@fieldproof/receipt';
import type { DeviceAnchor } from '../db/device-anchors.js';
import type { NewDeviceLeaf } from '../db/device-tree.js';
import { refuse } from './push-errors.js';
import type { PushedAnchor, PushRequest } from './push-request.js';

/** A push whose checkpoint signature and leaf encodings checked out (CPU only, before any transaction). */
export interface VerifiedPush {
  /** The signed checkpoint as pushed. */
  readonly signedNote: string;
  /** Its note text (what a cosignature signs). */
  readonly text: string;
  readonly treeSize: number;
  readonly root: Hash;
  readonly rootHash: string;
  readonly leaves: readonly VerifiedLeaf[];
  readonly consistency: { readonly fromTreeSize: number; readonly proof: readonly Hash[] } | undefined;
  /** Anchors whose proofs verified and whose payload names this origin; with the root they anchor. */
  readonly anchors: readonly VerifiedPushAnchor[];
}

/** A pushed leaf whose hash is its record's: the row to store, and the hash as bytes for the tree. */
export interface VerifiedLeaf extends NewDeviceLeaf {
  readonly hash: Hash;
}

/** A pushed anchor after {@link verifyAnchor}: what the collector stores, and the root to match. */
export interface VerifiedPushAnchor extends DeviceAnchor {
  /** The root in the transaction's FPA1 payload (hex): must be the held checkpoint's of `treeSize`. */
  readonly anchoredRoot: string;
  /** The unit's signed checkpoint of `treeSize` (opened under its key, the payload's root) and its text. */
  readonly signedNote: string;
  readonly text: string;
}

/**
 * Checks what can be checked without the device's stored tree: the checkpoint is a signed note by the
 * enrolled key for the enrolled origin; the leaves are consecutive, end at the checkpoint's size, and
 * each `leafHash` is the RFC 6962 hash of its record's fieldproof-leaf/v1 encoding. Throws
 * PushRefusedError.
 */
export function verifyPush(
  request: PushRequest,
  device: { readonly origin: string; readonly verifierKey: string },
): VerifiedPush {
  let opened;
  try {
    opened = openCheckpoint(request.checkpoint, device.verifierKey);
  } catch (err) {
    if (err instanceof NoteError) {
      refuse(
        'bad_checkpoint',
        `the checkpoint is not signed by the key enrolled for ${device.origin}: ${err.message}`,
      );
    }
    throw err;
  }
  const { checkpoint } = opened;
  if (checkpoint.origin !== device.origin) {
    refuse(
      'bad_checkpoint',
      `the checkpoint's origin is ${JSON.stringify(checkpoint.origin)}, not ${device.origin}`,
    );
  }
  if (checkpoint.treeSize === 0)
    refuse('bad_checkpoint', 'the checkpoint is of the empty tree: nothing to mirror');
  const leaves = request.leaves.map((leaf, i) => {
    const first = request.leaves[0]!.leafIndex;
    if (leaf.leafIndex !== first + i)
      refuse('leaf_gap', `leaves must be consecutive: leaf ${i} has index ${leaf.leafIndex}`);
    if (leaf.leafIndex >= checkpoint.treeSize) {
      refuse(
        'leaf_gap',
        `leaf ${leaf.leafIndex} is beyond the checkpoint's tree size ${checkpoint.treeSize}`,
      );
    }
    let hash: Hash;
    try {
      hash = leafHashOf(leaf.record);
    } catch (err) {
      if (err instanceof ReceiptError) refuse('leaf_mismatch', `leaf ${leaf.leafIndex}: ${err.message}`);
      throw err;
    }
    const computed = toHex(hash);
    if (computed !== leaf.leafHash) {
      refuse(
        'leaf_mismatch',
        `leaf ${leaf.leafIndex} is not the encoding of its record (its hash is ${computed})`,
      );
    }
    return {
      leafIndex: leaf.leafIndex,
      leafHash: computed,
      hash,
      evidenceId: leaf.record.id,
      digest: leaf.record.digest,
      // The record as the unit sent it (its leaf hash just checked every field it commits to), in the
      // unit's key order: readers parse it, none compares its text.
      record: JSON.stringify(leaf.record),
      contentStored: leaf.content,
    };
  });
  const ids = new Set(leaves.map((l) => l.evidenceId));
  if (ids.size !== leaves.length) refuse('leaf_mismatch', 'two leaves of this push have the same record id');
  const last = leaves.at(-1);
  if (last !== undefined && last.leafIndex !== checkpoint.treeSize - 1) {
    refuse(
      'leaf_gap',
      `the leaves end at ${last.leafIndex + 1}, the checkpoint's tree size is ${checkpoint.treeSize}`,
    );
  }
  const anchors = (request.anchors ?? []).map((a) => verifyAnchor(a, device));
  if (new Set(anchors.map((a) => a.txHash)).size !== anchors.length)
    refuse('bad_anchor_proof', 'two anchors of this push have the same transaction hash');
  return {
    anchors,
    signedNote: request.checkpoint,
    text: opened.note.text,
    treeSize: checkpoint.treeSize,
    root: checkpoint.root,
    rootHash: toHex(checkpoint.root),
    leaves,
    consistency:
      request.consistency === undefined
        ? undefined
        : {
            fromTreeSize: request.consistency.fromTreeSize,
            proof: request.consistency.proof.map((p) => new Uint8Array(Buffer.from(p, 'base64'))),
          },
  };
}

/**
 * Checks one pushed anchor offline (CPU only): its proof verifies against its own header
 * (`verifyAnchorProof`: header hash, transactions-trie proof, envelope, chain id), it is the proof of the
 * stated transaction, and the transaction's calldata is an FPA1 payload of this origin and the stated tree
 * size. Whether that root is the checkpoint the collector holds is checked under the device lock. The
 * block's canonicality is not knowable offline: the unit's `state` is its word on it (it pushes `lost`).
 */
export function verifyAnchor(
  anchor: PushedAnchor,
  device: { readonly origin: string; readonly verifierKey: string },
): VerifiedPushAnchor {
  const { origin } = device;
  const what = `anchor ${anchor.txHash}`;
  let verified;
  try {
    verified = verifyAnchorProof(anchor.proof);
  } catch (err) {
    if (err instanceof AnchorProofError) refuse('bad_anchor_proof', `${what}: ${err.message}`);
    throw err;
  }
  if (verified.txHash !== anchor.txHash) {
    refuse('bad_anchor_proof', `${what}: the proof is of transaction ${verified.txHash}`);
  }
  let payload;
  try {
    payload = decodeAnchorPayload(verified.data);
  } catch (err) {
    if (err instanceof AnchorPayloadError) {
      refuse('anchor_mismatch', `${what}: its calldata is not an anchor payload: ${err.message}`);
    }
    throw err;
  }
  if (payload.origin !== origin || payload.treeSize !== anchor.treeSize) {
    refuse(
      'anchor_mismatch',
      `${what} anchors ${payload.origin} at tree size ${payload.treeSize}, not ${origin} at ${anchor.treeSize}`,
    );
  }
  let opened;
  try {
    opened = openCheckpoint(anchor.checkpoint, device.verifierKey);
  } catch (err) {
    if (err instanceof NoteError) {
      refuse('anchor_mismatch', `${what}: its checkpoint is not signed by the key enrolled: ${err.message}`);
    }
    throw err;
  }
  const signed = opened.checkpoint;
  if (
    signed.origin !== origin ||
    signed.treeSize !== anchor.treeSize ||
    toHex(signed.root) !== toHex(payload.root)
  ) {
    refuse(
      'anchor_mismatch',
      `${what}: the transaction anchors the root ${toHex(payload.root)} at ${payload.treeSize}; the unit's checkpoint sent with it is ${toHex(signed.root)} at ${signed.treeSize}`,
    );
  }
  const proof: AnchorProof = {
    chainId: anchor.proof.chainId,
    blockNumber: anchor.proof.blockNumber,
    blockHash: anchor.proof.blockHash,
    rawHeader: anchor.proof.rawHeader,
    txIndex: anchor.proof.txIndex,
    rawTx: anchor.proof.rawTx,
    txProof: [...anchor.proof.txProof],
  };
  return {
    txHash: verified.txHash,
    chain: anchor.chain,
    chainId: verified.chainId,
    treeSize: payload.treeSize,
    blockNumber: verified.blockNumber,
    blockHash: verified.blockHash,
    blockTimestamp: verified.blockTimestamp,
    to: verified.to,
    state: anchor.state,
    proof,
    anchoredRoot: toHex(payload.root),
    signedNote: anchor.checkpoint,
    text: opened.note.text,
  };
}
