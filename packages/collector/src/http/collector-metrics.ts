import { collectProcessMetrics } from '@fieldproof/config/observability';
import { Counter, Histogram, Registry } from 'prom-client';

/** The collector's Prometheus metrics, in a registry of its own. */
export class CollectorMetrics {
  readonly registry = new Registry();
  readonly pushes: Counter<'outcome'>;
  readonly leavesIngested: Counter;
  readonly equivocations: Counter;
  readonly pushDuration: Histogram;

  constructor() {
    collectProcessMetrics(this.registry, 'collector');
    this.pushes = new Counter({
      name: 'fieldproof_collector_pushes_total',
      help: 'Pushes answered, by outcome (accepted, resent, refused code)',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.leavesIngested = new Counter({
      name: 'fieldproof_collector_leaves_ingested_total',
      help: 'Leaves mirrored (verified and stored) from all devices',
      registers: [this.registry],
    });
    this.equivocations = new Counter({
      name: 'fieldproof_collector_equivocations_total',
      help: 'Pushed checkpoints refused because they do not extend what the collector cosigned (forks)',
      registers: [this.registry],
    });
    this.pushDuration = new Histogram({
      name: 'fieldproof_collector_push_duration_seconds',
      help: 'Push-to-cosignature latency, as the collector measures it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [this.registry],
    });
  }
}
