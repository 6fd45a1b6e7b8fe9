import { randomUUID } from 'node:crypto';
import path from 'node:path';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { FieldproofConfig } from '@fieldproof/config';
import { countActiveApiKeys, countQueuedEvidence, isStorageFull } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AppContext } from './app-context.js';
import { createAuthHook } from './auth/auth-hook.js';
import { KeyAuthenticator } from './auth/key-authenticator.js';
import { consoleRoutes } from './console/console-routes.js';
import { SessionAuthenticator } from './console/console-session.js';
import { ContentStore } from './content/content-store.js';
import { errors } from './errors/catalogue.js';
import { createErrorHandler } from './errors/error-handler.js';
import type { DropReason } from './errors/error-handler.js';
import { schemaErrorMessage } from './errors/schema-error-message.js';
import { evidenceRoutes } from './evidence/evidence-routes.js';
import { evidenceSchema } from './evidence/evidence-schemas.js';
import { NotBeforeSource } from './evidence/not-before-source.js';
import { addQueryCoercion } from './http/query-coercion.js';
import { errorSchema } from './http/schemas.js';
import { parseJsonBody } from './http/strict-json.js';
import { parseQueryString, refuseBadQuery } from './http/strict-query.js';
import { ApiMetrics } from './ops/api-metrics.js';
import { createLoadSheddingHook } from './ops/load-shedding.js';
import { opsRoutes } from './ops/ops-routes.js';
import { StorageHealth } from './ops/storage-health.js';
import { proofRoutes } from './proofs/proof-routes.js';
import { collectorRoutes } from './proofs/collector-routes.js';
import { countermeasureType } from './records/countermeasures.js';
import { jammingOperationEndRoute } from './records/jamming-operation-end.js';
import { jammingOperationType } from './records/jamming-operations.js';
import { recordRoutes } from './records/record-routes.js';
import { signalDisruptionType } from './records/signal-disruptions.js';
import { GroupCommitter } from './write/group-committer.js';
import { createWriteExecutor } from './write/create-write-executor.js';

/** How often the api logs how many requests it answered (at info; nothing when there were none). */
const REQUEST_SUMMARY_INTERVAL_MS = 60_000;

/** Requests answered since the last summary, by status class, and those dropped (apart), by reason. */
class TrafficSummary {
  #counts = [0, 0, 0, 0, 0, 0];
  #dropped = new Map<DropReason, number>();
  count(status: number): void {
    const i = Math.trunc(status / 100);
    if (i >= 1 && i <= 5) this.#counts[i]!++;
  }
  countDropped(reason: DropReason): void {
    this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + 1);
  }
  /** The counts since the last call (undefined when none), and starts over. */
  take(): Record<string, number> | undefined {
    const [, c1, c2, c3, c4, c5] = this.#counts as [number, number, number, number, number, number];
    const total = c1 + c2 + c3 + c4 + c5;
    if (total === 0 && this.#dropped.size === 0) return undefined;
    const dropped = Object.fromEntries([...this.#dropped].map(([reason, n]) => [`dropped_${reason}`, n]));
    this.#counts = [0, 0, 0, 0, 0, 0];
    this.#dropped.clear();
    return {
      requests: total,
      '2xx': c2,
      '3xx': c3,
      '4xx': c4,
      '5xx': c5,
      ...(c1 > 0 ? { '1xx': c1 } : {}),
      ...dropped,
    };
  }
}

/**
 * How often Node checks its connections against the request timeout: a tenth of it (so a slow request is
 * closed within 110 % of the timeout), between 50 ms and Node's default of 30 s.
 */
function connectionsCheckingIntervalMs(requestTimeoutMs: number): number {
  return Math.min(30_000, Math.max(50, Math.round(requestTimeoutMs / 10)));
}

export interface BuildAppOptions {
  readonly config: FieldproofConfig;
  /** An open, migrated database. The caller owns it: closing the app does not close it. */
  readonly database: Database;
  /** A pino logger; default: none (tests). `startApi` passes the process logger. */
  readonly logger?: FastifyBaseLogger;
  /** The server clock in ms (receivedAt, createdAt). */
  readonly now?: () => number;
  /**
   * The event-loop delay in ms, read on every request and compared with API_MAX_EVENT_LOOP_DELAY_MS
   * (above it: 503 FP_OVERLOADED). Default: @fastify/under-pressure's once-a-second sample of
   * perf_hooks.monitorEventLoopDelay. Tests set it instead of blocking the loop.
   */
  readonly eventLoopDelay?: () => number;
}

/** The one line an operator sees when no admin key exists yet. */
export const FIRST_KEY_HINT =
  'no active admin API key: every route but /healthz and /readyz answers 401 until you create one with ' +
  '`fieldproof keys create --scopes read,write,admin` (works while the api runs)';

/**
 * Builds the api as a fastify instance, not listening (tests use `inject`; `startApi` listens).
 * Closing it refuses new writes, waits for every queued group commit, then stops.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, database } = options;
  const now = options.now ?? Date.now;
  const errorHandler = createErrorHandler((_request, reason) => {
    metrics.dropped.inc({ reason });
    traffic.countDropped(reason);
  });
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: () => randomUUID(),
    // Our own access line (onResponse below, at debug) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    bodyLimit: config.api.bodyLimitBytes,
    // Time allowed to receive a whole request (headers and body); Node answers 408 past it.
    requestTimeout: config.api.requestTimeoutMs,
    http: {
      requestTimeout: config.api.requestTimeoutMs,
      headersTimeout: config.api.requestTimeoutMs,
      // Node enforces both timeouts only when it sweeps its connections, by default every 30 s: a client
      // dripping its headers would otherwise hold a connection ~30 s whatever the timeout says.
      connectionsCheckingInterval: connectionsCheckingIntervalMs(config.api.requestTimeoutMs),
    },
    connectionTimeout: config.api.requestTimeoutMs + 5_000,
    // Requests that arrive while closing get our 503 (the hook below), not fastify's code-less one.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Errors fastify raises before routing (a malformed URL, an overlong parameter) get the same shape.
    frameworkErrors: (error, request, reply) => {
      void errorHandler(error, request, reply);
    },
    // Query strings are parsed by our strict parser, as JSON bodies are (below): refused, never repaired.
    routerOptions: { querystringParser: parseQueryString },
    // Messages that name the field, the unknown one too (ajv's own names only the object).
    schemaErrorFormatter: schemaErrorMessage,
    ajv: {
      // Validation must reject, not repair: no stripping of unknown fields, no type coercion of bodies
      // (query strings get a narrow, explicit coercion: http/query-coercion.ts).
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false },
    },
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('dropReason', null);

  const metrics = new ApiMetrics({
    pendingWrites: () => committer.pending,
    sequenceBacklog: () => countQueuedEvidence(database.db),
  });
  const sqliteFolder = database.target.engine === 'sqlite' ? [path.dirname(database.target.path)] : [];
  const storage = new StorageHealth({
    folders: [...sqliteFolder, config.dataDir],
    databaseVisible: sqliteFolder.length > 0,
    now,
  });
  const executor = createWriteExecutor(database, config.database.sqlite, {
    maxTransactionWrites: config.api.groupCommitMaxBatch,
    onTransaction: (writes) => metrics.batchSize.observe(writes),
  });
  const committer = new GroupCommitter(executor, {
    maxBatch: config.api.groupCommitMaxBatch,
    maxPending: config.api.maxPendingWrites,
    onBatch: (requests, results) => {
      storage.markWritten();
      requests.forEach((r, i) => {
        if (results[i]?.ok === true) metrics.intake.inc({ source: r.evidence.source });
      });
    },
    onBatchError: (err, size) => app.log.error({ err, size }, 'group commit failed'),
  });
  const notBefore = new NotBeforeSource({ database, log: app.log });
  await notBefore.start();
  const ctx: AppContext = {
    config,
    database,
    committer,
    content: new ContentStore(config.dataDir),
    metrics,
    storage,
    notBefore,
    now,
  };

  app.setErrorHandler(errorHandler);
  // The raw error, before the handler turns it into a 507: /readyz then fails until there is room again.
  app.addHook('onError', (_request, _reply, err, done) => {
    if (isStorageFull(err)) storage.markFull(err);
    done();
  });
  app.setNotFoundHandler(() => {
    throw new errors.NotFound('no such route');
  });
  app.addHook('onRoute', addQueryCoercion);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // The per-request hooks below take `done` rather than returning a promise: each runs on every request,
  // and a promise (with its microtask) per hook per request is measurable under load.
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) return done();
    request.dropReason = 'shutting_down';
    void reply.header('connection', 'close');
    done(new errors.Unavailable('the server is shutting down; retry later'));
  });
  // Per client address, BEFORE authentication: without it a flood of bad keys is answered 401 without end,
  // each costing a key lookup. A plugin instance without route hooks of its own (global: false), whose
  // handler runs as an app-wide hook ahead of the auth hook; registered first, so `app.rateLimit` is its.
  await app.register(rateLimit, {
    global: false,
    max: config.api.rateLimitPerAddressPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.ip,
    // The per-key limiter's headers are the ones clients see on success; these only on a 429.
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    errorResponseBuilder: (_request, context) =>
      new errors.RateLimited(
        `rate limit of ${context.max} requests per minute from this address exceeded; retry in ${context.after}`,
      ),
  });
  const addressLimit = app.rateLimit();
  app.addHook('onRequest', async function limitAddress(request, reply) {
    if (request.routeOptions.config.rateLimit === false) return; // the open probes
    await addressLimit.call(this, request, reply);
  });
  const sessions = new SessionAuthenticator(database, now);
  app.addHook(
    'onRequest',
    createAuthHook(new KeyAuthenticator(database, config.api.keyCacheTtlMs, now), sessions),
  );
  app.addHook('onResponse', (request, reply, done) => {
    if (request.dropReason !== null) return done(); // counted by the error handler, apart from 5xx
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    traffic.count(reply.statusCode);
    // One line per request only at debug: at info it cost ~7 % of the main thread under load (a JSON
    // line, redaction, a stdout write). Errors are logged with their request id by the error handler;
    // at info a summary line every minute says how many requests were answered with which status.
    if (request.log.level === 'debug' || request.log.level === 'trace') {
      request.log.debug(
        {
          method: request.method,
          url: request.url,
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
        },
        'request',
      );
    }
    done();
  });
  const traffic = new TrafficSummary();
  const summaryTimer = setInterval(() => {
    const summary = traffic.take();
    if (summary !== undefined) app.log.info(summary, 'requests answered');
  }, REQUEST_SUMMARY_INTERVAL_MS);
  summaryTimer.unref();
  app.addHook('onReady', async () => {
    try {
      if ((await countActiveApiKeys(database.db, 'admin')) === 0) app.log.warn(FIRST_KEY_HINT);
    } catch (err) {
      app.log.warn({ err }, 'cannot count API keys (is the database migrated? see /readyz)');
    }
  });
  // onClose runs after the server stopped accepting and the requests in flight were answered (their
  // writes committed meanwhile); closing the committer then refuses stragglers and drains the queue.
  app.addHook('onClose', async () => {
    clearInterval(summaryTimer);
    notBefore.stop();
    await committer.close();
    await executor.close();
  });
  // JSON only, besides the octet-stream uploads the evidence route accepts: text/plain is a 415.
  app.removeContentTypeParser('text/plain');
  // Every JSON body, on every route, through the one strict parser (http/strict-json.ts) instead of
  // fastify's, which substitutes U+FFFD for bytes that are not UTF-8, skips a byte-order mark and lets
  // JSON.parse keep the last of duplicate names and round big numbers.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addHook('preValidation', refuseBadQuery);

  app.addSchema(errorSchema);
  app.addSchema(evidenceSchema);
  for (const type of [countermeasureType, signalDisruptionType, jammingOperationType]) {
    app.addSchema({ $id: type.tag, ...type.viewSchema });
  }

  // Without thresholds under-pressure checks nothing and adds no hook: it only samples the event-loop delay
  // once a second (perf_hooks.monitorEventLoopDelay: the second's mean less the monitor's 10 ms resolution;
  // a second with no reading at all, the loop blocked throughout, is infinite), the default source of the
  // shedding hook, which takes its place among the hooks here (after authentication, before the per-key limit).
  await app.register(underPressure);
  const eventLoopDelay = options.eventLoopDelay ?? (() => app.memoryUsage().eventLoopDelay);
  if (config.api.maxEventLoopDelayMs > 0) {
    app.addHook('onRequest', createLoadSheddingHook(eventLoopDelay, config.api.maxEventLoopDelayMs));
  }
  // Per key, after authentication (route hooks run after the app-wide auth hook).
  await app.register(rateLimit, {
    global: true,
    max: config.api.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    errorResponseBuilder: (_request, context) =>
      new errors.RateLimited(
        `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`,
      ),
  });
  // The OpenAPI document and its UI at /docs: loaded only when enabled (API_DOCS=on, the default), so an
  // api that does not serve them does not carry them in memory.
  if (config.api.docs) {
    const { default: swagger } = await import('@fastify/swagger');
    const { default: swaggerUi } = await import('@fastify/swagger-ui');
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'fieldproof api',
          version: '1',
          description:
            'Tamper-evident field evidence. Errors: {statusCode, code, error, message}; see docs/API.md.',
        },
        components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
        security: [{ apiKey: [] }],
      },
      refResolver: {
        buildLocalReference: (json, _base, _fragment, i) =>
          typeof json.$id === 'string' ? json.$id : `def-${i}`,
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }

  await app.register(async (scope) => opsRoutes(scope, ctx));
  await app.register(async (scope) => evidenceRoutes(scope, ctx));
  await app.register(async (scope) => proofRoutes(scope, ctx));
  await app.register(async (scope) => collectorRoutes(scope, ctx));
  await app.register(async (scope) => consoleRoutes(scope, ctx, sessions));
  await app.register(async (scope) => {
    await recordRoutes(scope, ctx, countermeasureType);
    await recordRoutes(scope, ctx, signalDisruptionType);
    await recordRoutes(scope, ctx, jammingOperationType);
    await jammingOperationEndRoute(scope, ctx);
  });
  return app;
}
