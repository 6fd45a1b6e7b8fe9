import { hasQueuedEvidence } from '@fieldproof/db';
import type { DeviceIdentity } from '../device/device-identity.js';
import type { KeeperDeps, KeeperTask } from '../task.js';
import { sequenceBatch } from './sequence-batch.js';
import type { SequencedBatch } from './sequence-batch.js';
import { createSequencerMetrics } from './sequencer-metrics.js';

export interface SequencerTask extends KeeperTask {
  /** The last batch this task sequenced (for logs and tests). */
  readonly lastBatch: SequencedBatch | undefined;
}

/**
 * The sequencer: gives queued evidence gap-free leaf indices — in `sequence_queue` (UUIDv7 intake) order
 * on PostgreSQL, in rowid (commit) order on SQLite (migration 0007) — stores
 * leaves and completed nodes, and writes one signed checkpoint per batch.
 *
 * `runOnce()` first asks, with a plain read, whether the queue is empty: an idle keeper takes no write
 * lock. Only then does it open ONE short write transaction (BEGIN IMMEDIATE on SQLite; on PostgreSQL a
 * transaction-scoped advisory lock makes it the only sequencer) for at most
 * `config.keeper.sequenceBatchMax` records.
 */
export function createSequencer(deps: KeeperDeps, device: DeviceIdentity): SequencerTask {
  const { database, config, logger, now } = deps;
  const metrics = createSequencerMetrics(deps.registry);
  const log = logger.child({ task: 'sequencer' });
  const context = { capabilities: database.capabilities, device };
  let lastBatch: SequencedBatch | undefined;

  return {
    name: 'sequencer',
    get lastBatch() {
      return lastBatch;
    },
    async runOnce() {
      if (!(await hasQueuedEvidence(database.db))) return false;
      const started = performance.now();
      const batch = await database.db.transaction().execute((trx) =>
        sequenceBatch(trx, context, {
          limit: config.keeper.sequenceBatchMax,
          now: now(),
        }),
      );
      if (batch === undefined) return false;
      lastBatch = batch;
      metrics.leaves.inc(batch.leafCount);
      metrics.checkpoints.inc();
      metrics.batchSize.observe(batch.leafCount);
      log.info(
        {
          leaves: batch.leafCount,
          treeSize: batch.treeSize,
          root: batch.rootHash,
          ms: Math.round(performance.now() - started),
        },
        'sequenced a batch and signed its checkpoint',
      );
      return true;
    },
  };
}
