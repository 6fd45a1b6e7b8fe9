import { isUniqueClass, newId } from '@fieldproof/db';
import type { NewEvidence, SortOrder } from '@fieldproof/db';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import type { LeafBracketColumns } from '../evidence/not-before-source.js';
import { errors } from '../errors/catalogue.js';
import { canonicalOf, sha256OfText } from '../http/canonical.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import {
  errorResponses,
  idParams,
  millis,
  noQuery,
  operationIdSchema,
  pageQuery,
  pageSchema,
} from '../http/schemas.js';
import type { IdParams } from '../http/schemas.js';
import { unexpectedWriteFailure } from '../write/write-request.js';
import { sameRecord } from './record-type.js';
import type { RecordType, RecordViewBase } from './record-type.js';

interface ListQuery {
  limit: number;
  cursor?: string;
  order: SortOrder;
  from?: number;
  to?: number;
  operationId?: string;
  [extra: string]: unknown;
}

/**
 * The evidence entry of an operational record: the record as the API shows it (without its own
 * evidenceId, plus `recordType`) in RFC 8785 canonical form, and its SHA-256 as the digest; a
 * fieldproof-leaf/v2 leaf with `leaf` (NotBeforeSource.columnsAt the time it was received).
 */
export function recordEvidence(
  kind: string,
  evidenceId: string,
  record: object,
  occurredAt: number,
  receivedAt: number,
  leaf: LeafBracketColumns,
): NewEvidence {
  const { evidenceId: _own, ...shown } = record as { evidenceId?: string };
  const canonical = canonicalOf({ recordType: kind, ...shown }, 'record');
  return {
    id: evidenceId,
    digest: sha256OfText(canonical),
    kind,
    source: 'record',
    occurred_at: occurredAt,
    received_at: receivedAt,
    payload_mime: 'application/json',
    payload_size: Buffer.byteLength(canonical, 'utf8'),
    payload_json: canonical,
    metadata: null,
    content_stored: 0,
    ...leaf, // the fieldproof-leaf/v2 columns, exactly (LeafBracketColumns)
  };
}

/** POST <path>, GET <path>, GET <path>/:id for one record type. */
export async function recordRoutes<
  Body extends object,
  Row extends { id: string },
  View extends RecordViewBase,
>(app: FastifyInstance, ctx: AppContext, type: RecordType<Body, Row, View>): Promise<void> {
  const { committer, database, notBefore, now } = ctx;
  const fields = Object.keys(type.bodySchema.properties);
  // The view schema is added once at the root by buildApp (so the OpenAPI document has it).
  const viewRef = { $ref: `${type.tag}#` };

  app.post<{ Body: Body }>(
    type.path,
    {
      schema: {
        tags: [type.tag],
        summary: `Record a ${type.name.replace(/-/g, ' ')} (and its evidence entry)`,
        description:
          '201 when recorded; 200 when the same operationId was already recorded with the same fields; ' +
          '409 when with different ones; 422 when relatedEvidenceId names no evidence.',
        querystring: noQuery,
        body: type.bodySchema,
        response: { 200: viewRef, 201: viewRef, ...errorResponses },
      },
      config: { scope: 'write' },
    },
    async (request, reply) => {
      const body = request.body as Body;
      type.validate?.(body);
      committer.assertCapacity();
      const createdAt = now();
      const row = type.toRow(body, { id: newId(), evidenceId: newId(), createdAt });
      const view = type.view(row);
      const evidence = recordEvidence(
        type.name,
        view.evidenceId,
        view,
        type.occurredAt(body),
        createdAt,
        notBefore.columnsAt(createdAt),
      );
      const result = await committer.submit(type.request(evidence, row));
      if (result.ok) return reply.code(201).send(view);
      if (result.violation === 'foreign_key') {
        throw new errors.UnknownReference(
          `relatedEvidenceId ${String(view.relatedEvidenceId)} names no evidence`,
        );
      }
      const existing = result.existing as Row | undefined;
      if (isUniqueClass(result.violation) && existing !== undefined) {
        if (!sameRecord(type.view(existing), body, fields)) {
          throw new errors.OperationConflict(
            `operationId ${String(view.operationId)} is already recorded (${existing.id}) with different fields`,
          );
        }
        return reply.code(200).send(type.view(existing));
      }
      throw unexpectedWriteFailure(result);
    },
  );

  app.get<{ Querystring: ListQuery }>(
    type.path,
    {
      schema: {
        tags: [type.tag],
        summary: `List ${type.name.replace(/-/g, ' ')}s in ${type.timeField} order (cursor-paginated)`,
        querystring: pageQuery({
          from: { ...millis, description: `${type.timeField} ≥ this (ms)` },
          to: { ...millis, description: `${type.timeField} < this (ms)` },
          operationId: operationIdSchema,
          ...type.listQueryProperties,
        }),
        response: { 200: pageSchema(viewRef), ...errorResponses },
      },
      config: { scope: 'read' },
    },
    async (request) => {
      const q = request.query;
      if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
        throw new errors.InvalidRange('from is after to');
      }
      const scope = `${type.name}:${q.order}`;
      const after = q.cursor === undefined ? undefined : decodeCursor(scope, q.cursor);
      const { cursor: _cursor, ...filter } = q;
      const page = await type.list(database.db, { ...filter, after });
      const items = page.rows.map((r) => type.view(r));
      const last = items.at(-1) as (View & Record<string, unknown>) | undefined;
      const nextCursor =
        page.more && last !== undefined
          ? encodeCursor(scope, { key: last[type.timeField] as number, id: last.id })
          : null;
      return { items, nextCursor };
    },
  );

  app.get<{ Params: IdParams }>(
    `${type.path}/:id`,
    {
      schema: {
        tags: [type.tag],
        summary: `One ${type.name.replace(/-/g, ' ')}`,
        params: idParams,
        querystring: noQuery,
        response: { 200: viewRef, ...errorResponses },
      },
      config: { scope: 'read' },
    },
    async (request) => {
      const row = await type.find(database.db, request.params.id);
      if (row === undefined) throw new errors.NotFound(`no ${type.name} ${request.params.id}`);
      return type.view(row);
    },
  );
}
