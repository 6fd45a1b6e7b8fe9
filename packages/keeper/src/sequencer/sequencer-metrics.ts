import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** What the sequencer counts. Gauges read at scrape time live in health/keeper-metrics.ts. */
export interface SequencerMetrics {
  readonly leaves: Counter;
  readonly checkpoints: Counter;
  readonly batchSize: Histogram;
}

export function createSequencerMetrics(registry: Registry): SequencerMetrics {
  return {
    leaves: new Counter({
      name: 'fieldproof_sequencer_leaves_total',
      help: 'Leaves appended to the log by this keeper process',
      registers: [registry],
    }),
    checkpoints: new Counter({
      name: 'fieldproof_checkpoints_written_total',
      help: 'Signed checkpoints written by this keeper process (one per sequenced batch)',
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'fieldproof_sequencer_batch_size',
      help: 'Leaves per sequenced batch',
      buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
  };
}
