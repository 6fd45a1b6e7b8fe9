import { collectProcessMetrics } from '@fieldproof/config/observability';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DROP_REASONS } from '../errors/error-handler.js';

/** The api's Prometheus metrics, in a registry of its own (no global state shared between apps). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly intake: Counter<'source'>;
  readonly batchSize: Histogram;
  readonly dropped: Counter<'reason'>;

  /**
   * `pendingWrites` and `sequenceBacklog` are read at scrape time: the first from memory, the second
   * with one COUNT of what waits to be sequenced (countQueuedEvidence: `sequence_queue` rows on PostgreSQL,
   * evidence after the sequencer's watermark on SQLite), which the keeper keeps short.
   */
  constructor(sources: { pendingWrites: () => number; sequenceBacklog: () => Promise<number> }) {
    collectProcessMetrics(this.registry, 'api');
    this.requestDuration = new Histogram({
      name: 'fieldproof_api_request_duration_seconds',
      help: 'HTTP request latency by route and status (its _count is the request rate)',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.intake = new Counter({
      name: 'fieldproof_api_evidence_intake_total',
      help: 'Evidence records newly recorded, by how the digest was obtained (digest, json, bytes, record)',
      labelNames: ['source'],
      registers: [this.registry],
    });
    this.batchSize = new Histogram({
      name: 'fieldproof_api_group_commit_batch_size',
      help: 'Writes committed per database transaction (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: [this.registry],
    });
    this.dropped = new Counter({
      name: 'fieldproof_api_requests_dropped_total',
      help:
        'Requests not served through no fault of the server, by reason: client_aborted (the client closed ' +
        'the connection mid-request), shutting_down (refused with 503 while stopping); not in ' +
        'request_duration_seconds, so that its 5xx are server faults',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    for (const reason of DROP_REASONS) this.dropped.inc({ reason }, 0); // every series from the start
    new Gauge({
      name: 'fieldproof_api_pending_writes',
      help: 'Writes waiting for or in a group commit',
      registers: [this.registry],
      collect() {
        this.set(sources.pendingWrites());
      },
    });
    new Gauge({
      name: 'fieldproof_api_sequence_backlog',
      help: 'Evidence committed but not yet sequenced into the log (the sequence queue)',
      registers: [this.registry],
      async collect() {
        this.set(await sources.sequenceBacklog());
      },
    });
  }
}
