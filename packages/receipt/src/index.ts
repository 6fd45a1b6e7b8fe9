/**
 * `@fieldproof/receipt`: the formats that tie evidence to the log and to chains (docs/FORMATS.md) —
 * leaf encodings `fieldproof-leaf/v1` and `/v2`, the evidence-row → record mapping, anchor calldata `FPA1`, receipts `fieldproof-receipt/v1` and
 * `/v2`, the anchor proof (EVM header and transactions trie), bundles — and the self-sufficient
 * verifier of all of them: no database, no native addon, no chain library unless an endpoint is asked
 * (v1 anchors). Node-only facilities sit behind seams (hex via Buffer when present, Ed25519 via
 * `@fieldproof/note/verify`'s `setEd25519Verify`), so it bundles for a browser.
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
export {
  FLEET_LEAF_KIND,
  deviceNoteHash,
  fleetLeafMismatch,
  fleetLeafRecordOf,
} from './fleet/fleet-leaf-record.js';
export { recordTimeClaimsOf, type RecordTimeClaims } from './leaf/time-bracket.js';
export {
  buildReceipt,
  type FleetPath,
  type LaterCheckpoint,
  type ReceiptParts,
} from './receipt/build-receipt.js';
export { RECEIPT_SCHEMA, RECEIPT_V1_SCHEMA, RECEIPT_V2_SCHEMA } from './receipt/receipt-schema.js';
export {
  ANCHOR_STEP_TYPES,
  RECEIPT_FORMAT_V2,
  TRUNK_STEP_TYPES,
  type AnchorBranch,
  type AnchorStep,
  type AnchorTxStep,
  type BlockStep,
  type CheckpointStep,
  type ConsistencyStep,
  type CosignatureStep,
  type FleetCheckpointStep,
  type FleetInclusionStep,
  type FleetLeafStep,
  type HeaderStep,
  type InclusionStep,
  type LeafStep,
  type ReceiptV2,
  type Step,
  type StepType,
  type TrunkStep,
  type TxTrieStep,
} from './v2/receipt-v2.js';
export { validateReceiptV2 } from './v2/validate-receipt-v2.js';
export {
  TrustedBlocksError,
  firstOf,
  parseTrustedBlocks,
  rpcBlocks,
  trustedBlocks,
  type CanonicalAnswer,
  type CanonicalBlocks,
} from './v2/canonical-blocks.js';
export {
  describeBracket,
  duration,
  notBeforeOf,
  timeBracket,
  type BlockRef,
  type TimeBracket,
} from './v2/time-bracket.js';
export {
  verifyBranch,
  verifyReceiptV2Offline,
  verifyTrunk,
  type V2VerifyOptions,
} from './v2/verify-receipt-v2.js';
export type { FleetStepOptions, SignedCheckpoint } from './v2/verify-fleet-steps.js';
export {
  BUNDLE_FORMAT,
  BundleFormatError,
  bundleReceipts,
  isBundle,
  validateBundleEnvelope,
  type Bundle,
  type BundleSelection,
} from './bundle/bundle.js';
export {
  checkStreamedBundle,
  readBundleStream,
  type BundleEnvelope,
  type BundleEvent,
  type StreamedDocument,
} from './bundle/bundle-stream.js';
export {
  createReceiptChecker,
  type ReceiptChecker,
  type ReceiptCheckerOptions,
} from './verify/receipt-checker.js';
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
