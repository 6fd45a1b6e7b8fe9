import { componentLogger } from '@fieldproof/config/observability';
import type { KeeperDeps } from '../task.js';
import { anchoredChains, stubAnchoring, type Anchoring, type AnchoringOptions } from './stub-anchoring.js';

/**
 * `createAnchoring`, imported only when a chain is configured: the chain code (ethers, @ethereumjs/mpt,
 * the anchor tasks — some 250 modules) is what an idle keeper with the stub provider would otherwise hold
 * in memory for nothing (about 9 MB of the idle keeper's resident memory, issue 13).
 */
export async function loadAnchoring(deps: KeeperDeps, options: AnchoringOptions = {}): Promise<Anchoring> {
  if (anchoredChains(deps.config.keeper).length === 0) {
    return stubAnchoring(componentLogger(deps.logger, 'anchor'), deps.config.keeper);
  }
  const { createAnchoring } = await import('./create-anchoring.js');
  return createAnchoring(deps, options);
}
