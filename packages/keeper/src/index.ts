/**
 * `@fieldproof/keeper`: the keeper process — the sequencer (gap-free leaf indices, stored nodes, one
 * signed checkpoint per batch), anchoring (`./anchor/`), scheduled maintenance, and the health server.
 */
export type * from './task.js';
export { createKeeper, type Anchoring, type Keeper, type KeeperProcessDeps } from './keeper.js';
export { keeperService, runKeeper } from './keeper-service.js';
export { SignerKeyError, createAnchoring, type AnchoringOptions, type AnchorPoint } from './anchor/index.js';
export { createTaskRunner, type TaskRunner, type TaskRunnerOptions } from './task-runner.js';
export { backoffDelay } from './backoff.js';
export { createSequencer, type SequencerTask } from './sequencer/sequencer.js';
export { LogInconsistencyError } from '@fieldproof/proofs';
export {
  LeafEncodingFailure,
  sequenceBatch,
  type SequenceContext,
  type SequencedBatch,
} from './sequencer/sequence-batch.js';
export {
  DEFAULT_KEY_NAME,
  DeviceIdentityError,
  defaultOrigin,
  openDeviceIdentity,
  type DeviceIdentity,
  type OpenDeviceIdentityDeps,
} from './device/device-identity.js';
export { createHealthServer, type HealthServer, type Readiness } from './health/health-server.js';
export { registerLogGauges } from './health/keeper-metrics.js';
export { createMaintenance, MaintenanceConfigError, type Maintenance } from './maintenance/maintenance.js';
export {
  AnchorProofBuildError,
  anchorProofFromBlock,
  buildAnchorProof,
  type AnchorProofBuildCheck,
  type BuildAnchorProofOptions,
  type RpcBlock,
} from './chain/build-anchor-proof.js';
export {
  HEADER_FIELDS,
  HeaderEncodingError,
  encodeBlockHeader,
  type HeaderFieldName,
  type RpcBlockHeader,
} from './chain/block-header-rlp.js';
export { rawTransactionOf, type RpcTransaction } from './chain/raw-transaction.js';
export {
  CollectorPushError,
  DEFAULT_PUSH_MAX_LEAVES,
  createCollectorPusher,
  type CollectorPusher,
  type CollectorPusherOptions,
} from './collector/collector-pusher.js';
