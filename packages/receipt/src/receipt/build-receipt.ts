import { parseCheckpoint, parseSignedNote } from '@fieldproof/note';
import { LEAF_FORMAT_V2, leafHashOf, type EvidenceRecord } from '../leaf/encode-leaf-data.js';
import { toHex } from '../hex.js';
import { RECEIPT_FORMAT, type Receipt, type ReceiptAnchor } from './receipt.js';
import { validateReceipt } from './validate-receipt.js';

/** What the server knows about one record, from which `buildReceipt` assembles its receipt. */
export interface ReceiptParts {
  readonly evidence: EvidenceRecord;
  readonly leafIndex: number;
  /** Inclusion proof of `leafIndex` in the checkpoint's tree: bytes or lowercase hex. */
  readonly inclusionProof: readonly (Uint8Array | string)[];
  /** The signed checkpoint note (anchored if any anchor exists, else the latest). */
  readonly checkpointNote: string;
  /** The device's verifier key string. */
  readonly devicePublicKey: string;
  /** Anchors of that checkpoint. */
  readonly anchors?: readonly ReceiptAnchor[];
}

/**
 * Assembles a receipt: computes the leaf hash from the evidence, copies origin, size and root out of
 * the checkpoint note, writes hashes as lowercase hex, and validates the result (`ReceiptFormatError`,
 * `LeafEncodingError`, or the note package's errors for an unparsable note). It does not verify the
 * proof or the signature: call `verifyReceiptOffline` on the result for that.
 */
export function buildReceipt(parts: ReceiptParts): Receipt {
  const { evidence, leafIndex, inclusionProof, checkpointNote, devicePublicKey, anchors = [] } = parts;
  const checkpoint = parseCheckpoint(parseSignedNote(checkpointNote).text);
  const receipt: Receipt = {
    format: RECEIPT_FORMAT,
    evidence: {
      id: evidence.id,
      digest: evidence.digest,
      kind: evidence.kind,
      occurredAt: evidence.occurredAt,
      receivedAt: evidence.receivedAt,
      payloadMime: evidence.payloadMime ?? null,
      metadata: evidence.metadata ?? null,
      ...(evidence.leafFormat === LEAF_FORMAT_V2
        ? {
            leafFormat: LEAF_FORMAT_V2,
            notBefore: evidence.notBefore ?? null,
            clockSuspect: evidence.clockSuspect ?? false,
          }
        : {}),
    },
    leaf: { leafIndex, leafHash: toHex(leafHashOf(evidence)) },
    inclusion: {
      treeSize: checkpoint.treeSize,
      proof: inclusionProof.map((hash) => (typeof hash === 'string' ? hash : toHex(hash))),
    },
    checkpoint: {
      note: checkpointNote,
      origin: checkpoint.origin,
      treeSize: checkpoint.treeSize,
      root: toHex(checkpoint.root),
    },
    device: { publicKey: devicePublicKey },
    anchors: anchors.map(copyAnchor),
  };
  return validateReceipt(receipt);
}

function copyAnchor(anchor: ReceiptAnchor): ReceiptAnchor {
  const { chain, chainId, txHash, blockNumber, blockHash, blockTimestamp, state, from, to } = anchor;
  return {
    chain,
    chainId,
    txHash,
    blockNumber,
    blockHash,
    blockTimestamp,
    state,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}
