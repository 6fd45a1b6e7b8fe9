/**
 * `@fieldproof/proofs`: proofs and receipts read out of the log store (`@fieldproof/db`), for the api and
 * the CLI. Proofs cost one query for O(log n) stored nodes; receipts are verified before they leave.
 *
 * - Proofs: {@link inclusionProofFor}, {@link consistencyProofFor}.
 * - Checkpoints: {@link latestCheckpoint}, {@link checkpointAt}, {@link deviceVerifierKeyOrThrow}.
 * - Receipts (`fieldproof-receipt/v2`, v1 on request): {@link receiptFor}, {@link createReceiptReader} for many.
 * - Bundles (`fieldproof-bundle/v1`): {@link writeBundle} (reading and verifying them: `@fieldproof/receipt`).
 */
export { consistencyProofFor } from './proof/consistency-proof-for.js';
export { inclusionProofFor } from './proof/inclusion-proof-for.js';
export {
  checkpointAt,
  deviceVerifierKeyOrThrow,
  latestCheckpoint,
  type CheckpointView,
} from './checkpoint/checkpoint-view.js';
export { receiptAnchorsOf } from './receipt/receipt-anchors.js';
export {
  createReceiptReader,
  receiptFor,
  type ReceiptFormatName,
  type ReceiptReaderOptions,
  receiptTreeSize,
  type ReceiptReader,
} from './receipt/receipt-reader.js';

export {
  writeBundle,
  type BundleProgress,
  type BundleSummary,
  type WriteBundleOptions,
} from './bundle/write-bundle.js';
export { EvidenceNotFoundError, LogInconsistencyError, NotSequencedError, ProofsError } from './errors.js';
