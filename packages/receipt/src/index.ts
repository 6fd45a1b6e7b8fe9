/**
 * `@fieldproof/receipt`: the formats that tie evidence to the log and to chains (docs/FORMATS.md) —
 * leaf encodings `fieldproof-leaf/v1` and `/v2`, the evidence-row → record mapping, anchor calldata `FPA1`, receipts `fieldproof-receipt/v1`, the
 * anchor proof (EVM header and transactions trie) —
 * and the offline/online receipt verifier.
 */
export {
  ANCHOR_MAGIC,
  decodeAnchorPayload,
  encodeAnchorPayload,
  type AnchorPayload,
} from './anchor/anchor-payload.js';
export { validateConsistencyProof, type ConsistencyProof } from './consistency/consistency-proof.js';
export {
  ANCHOR_PROOF_CHECKS,
  AnchorProofError,
  type AnchorProofCheck,
} from './anchor-proof/anchor-proof-error.js';
export {
  verifyAnchorProof,
  type AnchorProof,
  type VerifiedAnchorProof,
} from './anchor-proof/anchor-proof.js';
export {
  BASE_HEADER_FIELD_COUNT,
  decodeBlockHeader,
  type BlockHeaderFields,
} from './anchor-proof/block-header.js';
export { decodeTransactionEnvelope, type TransactionEnvelope } from './anchor-proof/transaction-envelope.js';
export { trieProofValue } from './anchor-proof/trie-proof.js';
export {
  AnchorPayloadError,
  CanonicalJsonError,
  LeafEncodingError,
  ReceiptError,
  ReceiptFormatError,
} from './errors.js';
export {
  canonicalJson,
  canonicalJsonBytes,
  sha256Hex,
  type JsonObject,
  type JsonValue,
} from './json/canonical-json.js';
export {
  LEAF_FORMAT,
  LEAF_FORMAT_V2,
  encodeLeafData,
  leafHashOf,
  leafObjectOf,
  metadataDigestOf,
  notBeforeBlock,
  type EvidenceRecord,
  type LeafFormat,
  type LeafObject,
  type LeafObjectV1,
  type LeafObjectV2,
  type NotBeforeBlock,
} from './leaf/encode-leaf-data.js';
export { evidenceRecordOf, type EvidenceRecordRow } from './leaf/evidence-record-of.js';
export { recordTimeClaimsOf, type RecordTimeClaims } from './leaf/time-bracket.js';
export { buildReceipt, type ReceiptParts } from './receipt/build-receipt.js';
export {
  RECEIPT_FORMAT,
  isStubAnchor,
  type AnchorState,
  type Receipt,
  type ReceiptAnchor,
  type ReceiptCheckpoint,
  type ReceiptDevice,
  type ReceiptEvidence,
  type ReceiptInclusion,
  type ReceiptLeaf,
} from './receipt/receipt.js';
export { parseReceipt, validateReceipt } from './receipt/validate-receipt.js';
export { anchorLinkName, type AnchorCheckOptions } from './verify/anchor-links.js';
export type { LinkStatus, LinkVerdict, Verification } from './verify/verdict.js';
export { verifyConsistencyBetween } from './verify/verify-consistency-between.js';
export {
  verifyReceipt,
  verifyReceiptOffline,
  type OfflineVerifyOptions,
  type VerifyReceiptOptions,
} from './verify/verify-receipt.js';
