import { randomUUID } from 'node:crypto';
import { ContentStore } from '@fieldproof/api';
import type { CollectorConfig } from '@fieldproof/config';
import type { Cosigner } from '@fieldproof/note';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { CollectorDatabase } from '../db/collector-database.js';
import type { PushProtocol } from '../push/push-request.js';
import type { FleetLog } from '../fleet/fleet-log.js';
import type { CollectorContext } from './collector-context.js';
import { collectorErrorHandler } from './collector-error-handler.js';
import { errors } from './collector-errors.js';
import { gunzipBody } from './gunzip-body.js';
import { CollectorMetrics } from './collector-metrics.js';
import { auditRoutes } from './audit-routes.js';
import { collectorConsoleRoutes } from './console-routes.js';
import { publicRoutes } from './public-routes.js';
import { pushRoutes } from './push-routes.js';

export interface BuildCollectorAppOptions {
  readonly config: CollectorConfig;
  /** An open, migrated collector database; the caller owns it. */
  readonly collector: CollectorDatabase;
  readonly cosigner: Cosigner;
  readonly logger?: FastifyBaseLogger;
  /** The server clock in ms (cosignature timestamps, received times). */
  readonly now?: () => number;
  /**
   * The push protocol the push route takes: 2 (default), or 1 — the body schema of a collector from
   * before anchors, which refuses the `anchors` field (400 FP_VALIDATION): how units meet an older one.
   */
  readonly pushProtocol?: PushProtocol;
  /** The metrics (default: new ones); the fleet log's tasks register theirs in the same registry. */
  readonly metrics?: CollectorMetrics;
  /** The fleet log when fleet anchoring is on; the caller owns it. */
  readonly fleet?: FleetLog;
}

/** Builds the collector as a fastify instance, not listening (tests use `inject`). */
export async function buildCollectorApp(options: BuildCollectorAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: () => randomUUID(),
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // Applies to the decompressed body: a gzip bomb stops at this many bytes.
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs + 5_000,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    frameworkErrors: (error, request, reply) => {
      void collectorErrorHandler(error, request, reply);
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false },
    },
  });
  const ctx: CollectorContext = {
    config,
    collector: options.collector,
    cosigner: options.cosigner,
    content: new ContentStore(config.dataDir),
    metrics: options.metrics ?? new CollectorMetrics(),
    now: options.now ?? Date.now,
    fleet: options.fleet,
  };
  app.setErrorHandler(collectorErrorHandler);
  app.setNotFoundHandler(() => {
    throw new errors.NotFound('no such route');
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    void reply.header('connection', 'close');
    throw new errors.Unavailable('the server is shutting down; retry later');
  });
  // `Content-Encoding: gzip` on any body: decompressed on the way in; the body limit counts decompressed
  // bytes, and Content-Length is checked against the compressed bytes received.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || encoding === 'identity') return payload;
    // Content uploads are streamed by their handler (which decompresses them itself), not parsed here.
    if (request.headers['content-type'] === 'application/octet-stream') return payload;
    if (encoding !== 'gzip') throw new errors.UnsupportedMediaType(`content-encoding ${encoding} (use gzip)`);
    const { 'content-length': length, 'transfer-encoding': chunked } = request.headers;
    if (length === undefined && chunked === undefined) return payload; // no body to decompress
    return gunzipBody(payload, config.bodyLimitBytes);
  });
  app.removeContentTypeParser('text/plain');
  await app.register(async (scope) => publicRoutes(scope, ctx));
  await app.register(async (scope) => pushRoutes(scope, ctx, options.pushProtocol));
  await app.register(async (scope) => auditRoutes(scope, ctx));
  await app.register(async (scope) => collectorConsoleRoutes(scope, ctx));
  return app;
}
