import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { anchoringOfLeaf, findEvidenceWithLeaf, listEvidence, newId, statusBounds } from '@fieldproof/db';
import type { NewEvidence } from '@fieldproof/db';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../app-context.js';
import { errors } from '../errors/catalogue.js';
import { canonicalMetadata, canonicalOf, sha256OfText } from '../http/canonical.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { isMediaType } from '../http/schemas.js';
import type { RouteTypes } from '../http/schemas.js';
import { MAX_JSON_DEPTH, parseStrictJson } from '../http/strict-json.js';
import { timeBracketOf } from './evidence-bracket.js';
import { evidenceSummaryView, evidenceView } from './evidence-view.js';
import type { EvidenceView } from './evidence-view.js';
import { evidenceOutcome } from './evidence-write.js';
import {
  getContentSchema,
  getEvidenceSchema,
  listEvidenceSchema,
  postEvidenceSchema,
} from './evidence-schemas.js';
import type { EvidenceBytesQuery, EvidenceJsonBody } from './evidence-schemas.js';

const OCTET_STREAM = 'application/octet-stream';

/** POST/GET /v1/evidence, GET /v1/evidence/:id, GET /v1/evidence/:id/content. */
export async function evidenceRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { config, database, committer, content, notBefore, now } = ctx;

  // Raw bytes are not parsed here: the handler streams request.raw into the content store (hashing and
  // counting as it goes), so a large upload never sits in memory. Only this plugin accepts them.
  app.addContentTypeParser(OCTET_STREAM, (_request, _payload, done) => done(null, undefined));

  app.post<{ Body: EvidenceJsonBody | undefined; Querystring: EvidenceBytesQuery }>(
    '/v1/evidence',
    { schema: postEvidenceSchema, config: { scope: 'write' }, bodyLimit: config.api.bodyLimitBytes },
    async (request, reply) => {
      committer.assertCapacity();
      const row = isOctetStream(request.headers['content-type'])
        ? await bytesEvidence(request.raw, request.query, request.headers['content-length'])
        : jsonEvidence(request.body, request.query);
      const outcome = evidenceOutcome(row, await committer.submit({ kind: 'evidence', evidence: row }));
      if (outcome.created) return reply.code(201).send(evidenceView(row, null, []));
      return reply.code(200).send(await viewOf(outcome.existing.id));
    },
  );

  function jsonEvidence(body: EvidenceJsonBody | undefined, query: EvidenceBytesQuery): NewEvidence {
    if (body === undefined) throw new errors.BadRequest('a JSON body is required');
    if (Object.keys(query).length > 0) {
      throw new errors.BadRequest('query parameters are for application/octet-stream uploads only');
    }
    const hasDigest = body.digest !== undefined;
    const hasPayload = 'payload' in body;
    if (hasDigest === hasPayload) throw new errors.BadRequest('send exactly one of digest or payload');
    if (hasPayload && body.payloadMime !== undefined) {
      throw new errors.BadRequest('payloadMime is for the digest form; a JSON payload is application/json');
    }
    const metadata = canonicalMetadata(body.metadata, config.api.metadataLimitBytes);
    // Whole object literals, not a spread of shared fields: on this path, once per request, spreading
    // measured ~30× slower (3.8 µs against 0.12 µs).
    const receivedAt = now();
    const leaf = notBefore.columnsAt(receivedAt);
    if (hasDigest) {
      return {
        id: newId(),
        digest: body.digest!.toLowerCase(),
        kind: body.kind,
        source: 'digest',
        occurred_at: body.occurredAt,
        received_at: receivedAt,
        payload_mime: body.payloadMime?.toLowerCase() ?? null,
        payload_size: null,
        payload_json: null,
        metadata,
        content_stored: 0,
        ...leaf, // the fieldproof-leaf/v2 columns, exactly (LeafBracketColumns)
      };
    }
    const canonical = canonicalOf(body.payload, 'payload');
    return {
      id: newId(),
      digest: sha256OfText(canonical),
      kind: body.kind,
      source: 'json',
      occurred_at: body.occurredAt,
      received_at: receivedAt,
      payload_mime: 'application/json',
      payload_size: Buffer.byteLength(canonical, 'utf8'),
      payload_json: canonical,
      metadata,
      content_stored: 0,
      ...leaf,
    };
  }

  async function bytesEvidence(
    stream: Readable,
    query: EvidenceBytesQuery,
    contentLength: string | undefined,
  ): Promise<NewEvidence> {
    if (query.kind === undefined || query.occurredAt === undefined) {
      throw new errors.Validation(
        'querystring must have kind and occurredAt for an application/octet-stream upload',
      );
    }
    const limit = config.api.contentLimitBytes;
    if (contentLength !== undefined && Number(contentLength) > limit) {
      throw new errors.PayloadTooLarge(`the content is larger than ${limit} bytes`);
    }
    let metadataValue: unknown;
    if (query.metadata !== undefined) {
      // The same strict parser as JSON bodies: the same refusals, whichever way metadata arrives.
      metadataValue = parseStrictJson(query.metadata, {
        path: 'querystring/metadata',
        maxDepth: MAX_JSON_DEPTH,
      });
      if (typeof metadataValue !== 'object' || metadataValue === null || Array.isArray(metadataValue)) {
        throw new errors.Validation('querystring/metadata must be a JSON object');
      }
    }
    const metadata = canonicalMetadata(metadataValue, config.api.metadataLimitBytes);
    // The file is on disk and fsynced before the database write is even queued.
    const stored = await content.put(stream, limit, query.digest?.toLowerCase());
    const receivedAt = now();
    const leaf = notBefore.columnsAt(receivedAt);
    return {
      id: newId(),
      digest: stored.digest,
      kind: query.kind,
      source: 'bytes',
      occurred_at: query.occurredAt,
      received_at: receivedAt,
      payload_mime: query.payloadMime?.toLowerCase() ?? OCTET_STREAM,
      payload_size: stored.size,
      payload_json: null,
      metadata,
      content_stored: 1,
      ...leaf,
    };
  }

  async function viewOf(id: string): Promise<EvidenceView> {
    const row = await findEvidenceWithLeaf(database.db, id);
    if (row === undefined) throw new errors.NotFound(`no evidence ${id}`);
    const leafIndex = row.leaf_index === null ? null : Number(row.leaf_index);
    const anchors = leafIndex === null ? [] : await anchoringOfLeaf(database.db, leafIndex);
    return evidenceView(row, leafIndex, anchors, await timeBracketOf(database.db, row, anchors));
  }

  app.get<RouteTypes<typeof listEvidenceSchema>>(
    '/v1/evidence',
    { schema: listEvidenceSchema, config: { scope: 'read' } },
    async (request) => {
      const q = request.query;
      if (q.receivedFrom !== undefined && q.receivedTo !== undefined && q.receivedFrom > q.receivedTo) {
        throw new errors.InvalidRange('receivedFrom is after receivedTo');
      }
      if (q.occurredFrom !== undefined && q.occurredTo !== undefined && q.occurredFrom > q.occurredTo) {
        throw new errors.InvalidRange('occurredFrom is after occurredTo');
      }
      const scope = `evidence:${q.sort}:${q.order}`;
      const after = q.cursor === undefined ? undefined : decodeCursor(scope, q.cursor);
      const bounds = await statusBounds(database.db);
      const page = await listEvidence(database.db, {
        sort: q.sort,
        order: q.order,
        limit: q.limit,
        after,
        kind: q.kind,
        status: q.status === undefined ? undefined : { is: q.status, bounds },
        receivedFrom: q.receivedFrom,
        receivedTo: q.receivedTo,
        occurredFrom: q.occurredFrom,
        occurredTo: q.occurredTo,
      });
      const items = page.rows.map((r) => evidenceSummaryView(r, bounds));
      const last = items.at(-1);
      const nextCursor =
        page.more && last !== undefined
          ? encodeCursor(scope, {
              key: q.sort === 'occurredAt' ? last.occurredAt : last.receivedAt,
              id: last.id,
            })
          : null;
      return { items, nextCursor };
    },
  );

  app.get<RouteTypes<typeof getEvidenceSchema>>(
    '/v1/evidence/:id',
    { schema: getEvidenceSchema, config: { scope: 'read' } },
    async (request) => viewOf(request.params.id),
  );

  app.get<RouteTypes<typeof getContentSchema>>(
    '/v1/evidence/:id/content',
    { schema: getContentSchema, config: { scope: 'read' } },
    async (request, reply) => {
      const row = await findEvidenceWithLeaf(database.db, request.params.id);
      if (row === undefined) throw new errors.NotFound(`no evidence ${request.params.id}`);
      void reply.header('x-content-type-options', 'nosniff');
      void reply.header('content-disposition', `attachment; filename="${row.digest}"`);
      if (row.payload_json !== null) {
        return sendBytes(reply, 'application/json', Buffer.from(row.payload_json, 'utf8'));
      }
      const file = await openContent(content.pathOf(row.digest));
      if (file === undefined)
        throw new errors.ContentNotStored(`the server holds no content for evidence ${row.id}`);
      // A payloadMime stored before it had to be a media type of visible ASCII may be no valid header
      // value (Node refuses CR, LF, NUL, past U+00FF): the bytes are served all the same, untyped.
      const type =
        row.payload_mime !== null && isMediaType(row.payload_mime) ? row.payload_mime : OCTET_STREAM;
      return reply.type(type).header('content-length', file.size).send(file.stream);
    },
  );
}

function sendBytes(reply: FastifyReply, type: string, bytes: Buffer): FastifyReply {
  return reply.type(type).header('content-length', bytes.length).send(bytes);
}

/** Opens a stored content file, or undefined when there is none. */
async function openContent(path: string): Promise<{ size: number; stream: fs.ReadStream } | undefined> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const { size } = await handle.stat();
  return { size, stream: handle.createReadStream() };
}

function isOctetStream(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === OCTET_STREAM;
}
