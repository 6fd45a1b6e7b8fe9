import type { ContentStore } from '@fieldproof/api';
import type { CollectorConfig } from '@fieldproof/config';
import type { Cosigner } from '@fieldproof/note';
import type { CollectorDatabase } from '../db/collector-database.js';
import type { FleetLog } from '../fleet/fleet-log.js';
import type { CollectorMetrics } from './collector-metrics.js';

/** What the collector's routes share. */
export interface CollectorContext {
  readonly config: CollectorConfig;
  readonly collector: CollectorDatabase;
  readonly cosigner: Cosigner;
  readonly content: ContentStore;
  readonly metrics: CollectorMetrics;
  readonly now: () => number;
  /** The fleet log, when fleet anchoring is on (KEEPER_PROVIDER evm/multi). */
  readonly fleet: FleetLog | undefined;
}
