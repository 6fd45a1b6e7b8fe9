// The intake benchmark's peer: a fastify process with the api's server options, logger and per-request log
// line, and a POST /v1/evidence route with the api's own schema (imported from the built api), whose handler
// answers 201 with an evidence-shaped body at once — no auth, no rate limit, no database.
// What the api does beyond this process is what the intake ratio measures.
//
//   PORT=… LOG_LEVEL=info node bench/noop-server.mjs
import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import { postEvidenceSchema, evidenceSchema } from '../packages/api/dist/evidence/evidence-schemas.js';
import { errorSchema } from '../packages/api/dist/http/schemas.js';
import { addQueryCoercion } from '../packages/api/dist/http/query-coercion.js';
import { createApiLogger } from '../packages/api/dist/logger.js';

const port = Number(process.env.PORT ?? 0);
const logger = createApiLogger(process.env.LOG_LEVEL ?? 'info');

// The same server options as the api's buildApp (packages/api/src/build-app.ts).
const app = Fastify({
  loggerInstance: logger,
  genReqId: () => randomUUID(),
  logController: new LogController({ disableRequestLogging: true }),
  requestIdHeader: false,
  bodyLimit: 1024 * 1024,
  requestTimeout: 30_000,
  connectionTimeout: 35_000,
  return503OnClosing: true,
  forceCloseConnections: 'idle',
  onProtoPoisoning: 'error',
  onConstructorPoisoning: 'error',
  ajv: {
    customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false },
  },
});
app.addHook('onRoute', addQueryCoercion);
app.addHook('onResponse', async (request, reply) => {
  request.log.info(
    {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    },
    'request',
  );
});
app.removeContentTypeParser('text/plain');
app.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null, undefined));
app.addSchema(errorSchema);
app.addSchema(evidenceSchema);

app.get('/healthz', async () => ({ ok: true }));
app.post('/v1/evidence', { schema: postEvidenceSchema }, async (request, reply) => {
  const body = request.body;
  const now = Date.now();
  return reply.code(201).send({
    id: randomUUID(),
    digest: body.digest.toLowerCase(),
    kind: body.kind,
    source: 'digest',
    occurredAt: body.occurredAt,
    receivedAt: now,
    payloadMime: null,
    payloadSize: null,
    metadata: null,
    contentStored: false,
    leafIndex: null,
    status: 'pending',
    leafFormat: 'fieldproof-leaf/v2',
    notBefore: null,
    clockSuspect: false,
    anchors: [],
    bracket: null,
  });
});

const address = await app.listen({ host: '127.0.0.1', port });
logger.info({ address }, 'no-op server listening');
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
