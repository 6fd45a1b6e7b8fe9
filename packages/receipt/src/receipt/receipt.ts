import type { JsonObject } from '../json/canonical-json.js';
import type { LEAF_FORMAT_V2, NotBeforeBlock } from '../leaf/encode-leaf-data.js';

/** Version tag of the receipt document. */
export const RECEIPT_FORMAT = 'fieldproof-receipt/v1';

/**
 * A self-contained, offline-verifiable proof that one evidence record was in the device log
 * (docs/FORMATS.md). Hashes are 64 lowercase hex digits; EVM hashes `0x` + 64 lowercase hex digits.
 *
 * ```
 * content ──SHA-256──▶ evidence.digest ─┐
 * evidence fields ──fieldproof-leaf/v1──▶ leaf hash ──inclusion.proof──▶ checkpoint.root
 * checkpoint.note ──Ed25519 (device.publicKey)──▶ {origin, treeSize, root}
 * anchors[i].txHash ──calldata FPA1──▶ {origin, treeSize, root} in block anchors[i].blockHash
 * ```
 */
export interface Receipt {
  readonly format: typeof RECEIPT_FORMAT;
  readonly evidence: ReceiptEvidence;
  readonly leaf: ReceiptLeaf;
  readonly inclusion: ReceiptInclusion;
  readonly checkpoint: ReceiptCheckpoint;
  readonly device: ReceiptDevice;
  readonly anchors: readonly ReceiptAnchor[];
}

/** The evidence fields the leaf is rebuilt from. */
export interface ReceiptEvidence {
  readonly id: string;
  readonly digest: string;
  readonly kind: string;
  /** Unix milliseconds. */
  readonly occurredAt: number;
  /** Unix milliseconds. */
  readonly receivedAt: number;
  readonly payloadMime: string | null;
  readonly metadata: JsonObject | null;
  /**
   * Present only for a `fieldproof-leaf/v2` leaf, with `notBefore` and `clockSuspect` (all three or
   * none): a record of a v1 leaf has exactly the seven fields above.
   */
  readonly leafFormat?: typeof LEAF_FORMAT_V2;
  readonly notBefore?: NotBeforeBlock | null;
  readonly clockSuspect?: boolean;
}

export interface ReceiptLeaf {
  readonly leafIndex: number;
  /** Informative: verifiers recompute it from `evidence` and compare. */
  readonly leafHash: string;
}

export interface ReceiptInclusion {
  /** Size of the tree the proof is for; equals `checkpoint.treeSize`. */
  readonly treeSize: number;
  /** RFC 9162 inclusion proof, leaf level first. */
  readonly proof: readonly string[];
}

export interface ReceiptCheckpoint {
  /** The signed checkpoint note, exactly as signed (C2SP signed-note text). */
  readonly note: string;
  /** Copies of the note body's fields, for readers; verifiers check they match the note. */
  readonly origin: string;
  readonly treeSize: number;
  readonly root: string;
}

export interface ReceiptDevice {
  /** C2SP verifier key `<name>+<key id>+<base64(0x01 ‖ Ed25519 public key)>`. */
  readonly publicKey: string;
}

/**
 * Anchor states a receipt may report, as the keeper names them (`stub`: no chain at all). Other
 * lowercase words are accepted for forward compatibility.
 */
export type AnchorState =
  'signed' | 'broadcast' | 'included' | 'confirmed' | 'final' | 'stub' | (string & {});

export interface ReceiptAnchor {
  /** Configured chain name, e.g. `sepolia`; informative. */
  readonly chain: string;
  /** EIP-155 chain id; `0` for a stub anchor. */
  readonly chainId: number;
  readonly txHash: string;
  /** All three block fields are null together, when the transaction is not in a block yet. */
  readonly blockNumber: number | null;
  readonly blockHash: string | null;
  /** Block timestamp in Unix milliseconds (the header's seconds × 1000). */
  readonly blockTimestamp: number | null;
  readonly state: AnchorState;
  /** Sender address, when the receipt states it; verified against the chain. */
  readonly from?: string;
  /** Recipient address, when the receipt states it; verified against the chain. */
  readonly to?: string;
}

/** Whether an anchor is the keeper's `stub` (not on any chain). */
export function isStubAnchor(anchor: ReceiptAnchor): boolean {
  return anchor.state === 'stub' || anchor.chainId === 0;
}
