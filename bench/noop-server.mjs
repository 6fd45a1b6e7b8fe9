// The intake benchmark's peer: a fastify process with the api's server options, logger and per-request log
// line, and a POST /v1/evidence route with the api's own schema (imported from the built api), whose handler
// answers 201 with an evidence-shaped body at once — no auth, no rate limit, no database.
// What the api does beyond this process is what the intake ratio measures.
//
// With PEER_SQLITE_FILE set it is the other peer, the server a user would otherwise write: the same
// fastify process plus better-sqlite3 on that file (migrated by the product, opened by its openSqlite:
// WAL, synchronous=FULL), one INSERT of the api's rows for a digest (bench-log.mjs rawInserter, the
// database ceiling's rows) in its own transaction per request, on the main thread; and
// GET /v1/evidence/:id reading the row, for reads during write load.
//
//   PORT=… LOG_LEVEL=info [PEER_SQLITE_FILE=…] node bench/noop-server.mjs
import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import { postEvidenceSchema, evidenceSchema } from '../packages/api/dist/evidence/evidence-schemas.js';
import { errorSchema } from '../packages/api/dist/http/schemas.js';
import { addQueryCoercion } from '../packages/api/dist/http/query-coercion.js';
import { createApiLogger } from '../packages/api/dist/logger.js';

const port = Number(process.env.PORT ?? 0);
const sqliteFile = process.env.PEER_SQLITE_FILE;
let insertRow;
let readRow;
if (sqliteFile !== undefined && sqliteFile !== '') {
  const { loadConfig } = await import('@fieldproof/config');
  const { createDatabase, migrate, openSqlite } = await import('@fieldproof/db');
  const { rawInserter } = await import('./lib/bench-log.mjs');
  const { config } = loadConfig({ API_DB_URL: `sqlite://${sqliteFile}`, LOG_LEVEL: 'silent' }, process.cwd());
  const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
  await migrate(database);
  await database.close();
  const raw = openSqlite(sqliteFile, config.database.sqlite);
  if (raw.pragma('synchronous', { simple: true }) !== 2)
    throw new Error('sqlite peer: synchronous is not FULL');
  let digest = '';
  const insertBatch = rawInserter(raw, () => digest);
  insertRow = (d) => {
    digest = d;
    return insertBatch(1);
  };
  const select = raw.prepare('SELECT * FROM evidence WHERE id = ?');
  readRow = (id) => select.get(id);
}
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
  const stored = insertRow?.(body.digest.toLowerCase());
  return reply.code(201).send({
    id: stored ?? randomUUID(),
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

if (readRow !== undefined) {
  app.get('/v1/evidence/:id', async (request, reply) => {
    const row = readRow(request.params.id);
    return row === undefined ? reply.code(404).send({ error: 'not found' }) : row;
  });
}

const address = await app.listen({ host: '127.0.0.1', port });
logger.info({ address }, 'no-op server listening');
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
