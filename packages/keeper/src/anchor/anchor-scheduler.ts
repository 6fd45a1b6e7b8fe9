import {
  anchoredTreeSize,
  findNewestCheckpointToAnchor,
  hasAnchorJobFor,
  insertAnchorJob,
  leafSequencedAt,
  newId,
  retargetUntouchedAnchorJob,
} from '@fieldproof/db';
import type { ChainConfig, FieldproofConfig } from '@fieldproof/config';
import type { Database } from '@fieldproof/db';
import type { Logger } from 'pino';
import type { KeeperTask } from '../task.js';

/**
 * Creates outbox jobs (`anchor-scheduler` task). One anchor covers every leaf so far: a job anchors the
 * newest checkpoint. Per chain, the unanchored backlog is the newest checkpoint's size minus the size
 * covered by the newest job on that chain that is not dead; a job is created when the backlog reaches
 * `batchMaxLeaves`, or when its oldest leaf (by `sequenced_at`) is `batchMaxWaitMs` old. At most one job
 * per (checkpoint, chain): UNIQUE(chain, tree_size). When the newest job of the chain is still untouched
 * (nothing signed, not claimed) it is moved to the newer checkpoint instead: a backlog that builds up
 * while a chain is unreachable costs one transaction, not one per checkpoint.
 *
 * Reads only (a handful of index lookups) until there is a job to insert or move; while a backlog is not
 * yet due, one UPDATE that matches nothing unless an untouched job exists.
 */
export class AnchorScheduler implements KeeperTask {
  readonly name = 'anchor-scheduler';

  constructor(
    private readonly database: Database,
    private readonly chains: readonly ChainConfig[],
    private readonly settings: FieldproofConfig['keeper'],
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  async runOnce(): Promise<boolean> {
    const { db } = this.database;
    const latest = await findNewestCheckpointToAnchor(db);
    if (latest === undefined || latest.treeSize === 0) return false;
    let created = false;
    for (const chain of this.chains) {
      const covered = await anchoredTreeSize(db, chain.name);
      const backlog = latest.treeSize - covered;
      if (backlog <= 0) continue;
      const now = this.now();
      let due = backlog >= this.settings.batchMaxLeaves;
      if (!due) {
        const oldest = await leafSequencedAt(db, covered);
        due = oldest !== undefined && now - oldest >= this.settings.batchMaxWaitMs;
      }
      if (!due) {
        // Not due for a job of its own, but a job that has not been touched yet (its chain down) takes
        // the newer checkpoint anyway: when the chain comes back, one anchor covers the whole backlog,
        // not the backlog up to the last due checkpoint plus a second anchor for the tail.
        if (await retargetUntouchedAnchorJob(db, { chain: chain.name, treeSize: latest.treeSize, now })) {
          created = true;
          this.logger.info(
            { chain: chain.name, treeSize: latest.treeSize, backlog },
            'anchor job moved to the newer checkpoint',
          );
        }
        continue;
      }
      // A dead job for this very checkpoint: nothing to write until a newer checkpoint exists.
      if (await hasAnchorJobFor(db, chain.name, latest.treeSize)) continue;
      // The newest job has not signed anything yet (e.g. its chain is down): it anchors the newer
      // checkpoint instead of a second job queueing behind it.
      if (await retargetUntouchedAnchorJob(db, { chain: chain.name, treeSize: latest.treeSize, now })) {
        created = true;
        this.logger.info(
          { chain: chain.name, treeSize: latest.treeSize, backlog },
          'anchor job moved to the newer checkpoint',
        );
        continue;
      }
      const job = { id: newId(), chain: chain.name, chainId: chain.chainId, treeSize: latest.treeSize, now };
      if (await insertAnchorJob(db, job)) {
        created = true;
        this.logger.info(
          { jobId: job.id, chain: chain.name, treeSize: latest.treeSize, backlog },
          'anchor job created',
        );
      }
    }
    return created;
  }
}
