/**
 * `@fieldproof/collector`: the fleet collector — mirrors enrolled units' logs (verifying signatures,
 * consistency, leaf encodings and content digests), cosigns accepted checkpoints (C2SP
 * tlog-cosignature/v1) and keeps proof of forks. See docs/COLLECTOR.md.
 */
export { startCollector, type RunningCollector } from './start-collector.js';
export { collectorService, runCollector } from './collector-service.js';
export { buildCollectorApp, type BuildCollectorAppOptions } from './http/build-collector-app.js';
export { collectorErrorCatalogue, errors as collectorErrors } from './http/collector-errors.js';
export {
  COLLECTOR_MIGRATIONS_DIR,
  collectorDatabaseOf,
  createCollectorDatabase,
  openCollectorDatabase,
  type CollectorDatabase,
} from './db/collector-database.js';
export type * from './db/collector-schema.js';
export { findDeviceByOrigin, listDevices, revokeDevice, type DeviceRow } from './db/devices.js';
export { countDeviceLeaves, getDeviceCheckpoint } from './db/device-tree.js';
export { listEquivocations } from './db/equivocations.js';
export { deviceConsistencyProof, deviceInclusionProof } from './audit/device-proofs.js';
export { MirroredEvidenceNotFoundError, deviceReceipt } from './audit/device-receipt.js';
export { insertOperatorKey, listOperatorKeys, revokeOperatorKey } from './db/console.js';
export {
  EnrollmentError,
  authenticatePushKey,
  enrollDevice,
  type EnrolledDevice,
} from './enrollment/enrollment.js';
export { fleetVerifierKey, openWitness } from './witness/witness-key.js';
export type { FleetLog } from './fleet/fleet-log.js';
export type { FleetProofEntry, FleetProofPage } from './fleet/fleet-proofs.js';
export { listWaitingCheckpoints } from './db/fleet-checkpoints.js';
export { applyPush, MirrorInconsistencyError } from './push/apply-push.js';
export { PushRefusedError, type PushRefusal } from './push/push-errors.js';
export type { PushAccepted, PushRequest, PushedAnchor, PushedLeaf } from './push/push-request.js';
export { verifyPush, type VerifiedPush } from './push/verify-push.js';
