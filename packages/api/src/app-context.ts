import type { FieldproofConfig } from '@fieldproof/config';
import type { Database } from '@fieldproof/db';
import type { ContentStore } from './content/content-store.js';
import type { NotBeforeSource } from './evidence/not-before-source.js';
import type { ApiMetrics } from './ops/api-metrics.js';
import type { StorageHealth } from './ops/storage-health.js';
import type { GroupCommitter } from './write/group-committer.js';

/** What the route plugins share: created once per app by buildApp. */
export interface AppContext {
  readonly config: FieldproofConfig;
  readonly database: Database;
  readonly committer: GroupCommitter;
  readonly content: ContentStore;
  readonly metrics: ApiMetrics;
  /** Whether a write recently failed for lack of space (/readyz). */
  readonly storage: StorageHealth;
  /** The newest finalized block and the clock check, for every new record's leaf (no query per request). */
  readonly notBefore: NotBeforeSource;
  /** The server clock (ms); tests pin it. */
  readonly now: () => number;
}
