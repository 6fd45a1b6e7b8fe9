/**
 * Fleet anchoring cannot start for a reason the operator must fix first (the signer key, the witness key
 * as the fleet log's key, another origin or key than the fleet log was started with): no restart helps,
 * so `fieldproof collector` exits with the refusal status and this one line. Declared here, not in the
 * keeper, so that the collector service can name it without loading the keeper.
 */
export class FleetRefusedError extends Error {
  override readonly name = 'FleetRefusedError';
}
