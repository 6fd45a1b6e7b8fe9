import { toHex } from '@fieldproof/merkle';
import type { Hash } from '@fieldproof/merkle';
import { NoteError, openCheckpoint } from '@fieldproof/note';
import { canonicalJson, leafHashOf, ReceiptError } from '@fieldproof/receipt';
import type { NewDeviceLeaf } from '../db/device-tree.js';
import { refuse } from './push-errors.js';
import type { PushRequest } from './push-request.js';

/** A push whose checkpoint signature and leaf encodings checked out (CPU only, before any transaction). */
export interface VerifiedPush {
  /** The signed checkpoint as pushed. */
  readonly signedNote: string;
  /** Its note text (what a cosignature signs). */
  readonly text: string;
  readonly treeSize: number;
  readonly root: Hash;
  readonly rootHash: string;
  readonly leaves: readonly NewDeviceLeaf[];
  readonly consistency: { readonly fromTreeSize: number; readonly proof: readonly Hash[] } | undefined;
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
    let computed: string;
    let record: string;
    try {
      computed = toHex(leafHashOf(leaf.record));
      record = canonicalJson(leaf.record, 'record');
    } catch (err) {
      if (err instanceof ReceiptError) refuse('leaf_mismatch', `leaf ${leaf.leafIndex}: ${err.message}`);
      throw err;
    }
    if (computed !== leaf.leafHash) {
      refuse(
        'leaf_mismatch',
        `leaf ${leaf.leafIndex} is not the encoding of its record (its hash is ${computed})`,
      );
    }
    return {
      leafIndex: leaf.leafIndex,
      leafHash: computed,
      evidenceId: leaf.record.id,
      digest: leaf.record.digest,
      record,
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
  return {
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
