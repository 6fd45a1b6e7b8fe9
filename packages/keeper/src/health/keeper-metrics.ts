import { countQueuedEvidence, getLatestCheckpoint, oldestUnanchoredLeafTime } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * Log gauges read from the database at scrape time (cheap: a count of the small queue, and primary-key
 * reads), so every keeper — and a restarted one — reports the same numbers. A failed read leaves the
 * previous value and is logged at debug; /readyz reports the database itself.
 */
export function registerLogGauges(
  registry: Registry,
  deps: { readonly database: Database; readonly logger: Logger; readonly now: () => number },
): void {
  const { database, logger, now } = deps;
  const guarded = async (what: string, read: () => Promise<void>): Promise<void> => {
    try {
      await read();
    } catch (err) {
      logger.debug({ err, metric: what }, 'metric read failed');
    }
  };
  new Gauge({
    name: 'fieldproof_sequence_backlog',
    help: 'Evidence records committed but not yet sequenced into the log',
    registers: [registry],
    async collect() {
      await guarded('backlog', async () => this.set(await countQueuedEvidence(database.db)));
    },
  });
  new Gauge({
    name: 'fieldproof_log_tree_size',
    help: 'Leaves in the log (tree size of the latest signed checkpoint)',
    registers: [registry],
    async collect() {
      await guarded('tree size', async () =>
        this.set((await getLatestCheckpoint(database.db))?.tree_size ?? 0),
      );
    },
  });
  new Gauge({
    name: 'fieldproof_oldest_unanchored_leaf_age_seconds',
    help: 'Seconds since the oldest leaf not covered by a final anchor was sequenced (0 when all are covered)',
    registers: [registry],
    async collect() {
      await guarded('oldest unanchored', async () => {
        const at = await oldestUnanchoredLeafTime(database.db);
        this.set(at === undefined ? 0 : Math.max(0, (now() - at) / 1000));
      });
    },
  });
}
