/**
 * Anchoring: publishing checkpoints on EVM chains and following each anchor to finality
 * (docs/ANCHORING.md). `createAnchoring(deps)` is what the keeper composes.
 */
export { createAnchoring, type Anchoring, type AnchoringOptions } from './create-anchoring.js';
export { loadAnchoring } from './load-anchoring.js';
export type { AnchorPoint, ChainContext, JobLease } from './anchor-context.js';
export { AnchorMetrics } from './anchor-metrics.js';
export { AnchorScheduler } from './anchor-scheduler.js';
export { ChainAnchorer } from './chain-anchorer.js';
export { SignerFunds, calldataGasUpperBound, type FundsStatus } from './signer-funds.js';
export { LeaseLostError } from './job-lease.js';
export { AnchorSigner, SignerKeyError, loadAnchorSigner } from '../chain/anchor-signer.js';
export { classifyChainError, isPermanentChainError, type ChainErrorKind } from '../chain/chain-errors.js';
export { bumpFees, initialFees, minimumBump, type FeeSuggestion, type TxFees } from '../chain/fees.js';
export { backoffDelay } from '../backoff.js';
export { JsonRpcClient, RpcResponseError, RpcTransportError } from '../chain/json-rpc-client.js';
