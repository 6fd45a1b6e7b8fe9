import { newId } from '@fieldproof/db';
import type { JammingOperationRow } from '@fieldproof/db';
import type { FastifyInstance } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import type { AppContext } from '../app-context.js';
import { errors } from '../errors/catalogue.js';
import { errorResponses, idParams, noQuery } from '../http/schemas.js';
import type { IdParams } from '../http/schemas.js';
import { unexpectedWriteFailure } from '../write/write-request.js';
import { endBodySchema, jammingOperationType } from './jamming-operations.js';
import { recordEvidence } from './record-routes.js';

/** The PATCH body, derived from its schema. */
type EndBody = FromSchema<typeof endBodySchema>;

/**
 * PATCH /v1/jamming-operations/:id ends a running operation. The end is itself evidence (kind
 * `jamming-operation-end`), written with the conditional update in one transaction. Ending again with
 * the same endedAt and successMetric is a replay (200); with others, 409; before startedAt, 422 (the
 * table's CHECK constraint, decided from its code); an unknown id, 404.
 */
export async function jammingOperationEndRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { committer, now } = ctx;
  app.patch<{ Params: IdParams; Body: EndBody }>(
    '/v1/jamming-operations/:id',
    {
      schema: {
        tags: [jammingOperationType.tag],
        summary: 'End a jamming operation (endedAt, successMetric)',
        params: idParams,
        querystring: noQuery,
        body: endBodySchema,
        response: { 200: { $ref: `${jammingOperationType.tag}#` }, ...errorResponses },
      },
      config: { scope: 'write' },
    },
    async (request) => {
      const { id } = request.params;
      const { endedAt } = request.body;
      const successMetric = request.body.successMetric ?? null;
      committer.assertCapacity();
      const recordedAt = now();
      const evidence = recordEvidence(
        'jamming-operation-end',
        newId(),
        { jammingOperationId: id, endedAt, successMetric, recordedAt },
        endedAt,
        recordedAt,
        ctx.notBefore.columnsAt(recordedAt),
      );
      const result = await committer.submit({
        kind: 'jamming-operation-end',
        evidence,
        end: { id, endedAt, successMetric, endEvidenceId: evidence.id, updatedAt: recordedAt },
      });
      if (result.ok && result.row !== undefined) return jammingOperationType.view(result.row);
      if (result.ok) throw unexpectedWriteFailure(result);
      const row = result.existing as JammingOperationRow | undefined;
      if (row === undefined) throw new errors.NotFound(`no jamming-operation ${id}`);
      if (result.violation === 'check') {
        throw new errors.EndedBeforeStart(`endedAt ${endedAt} is before startedAt ${Number(row.started_at)}`);
      }
      if ((result.violation === 'not_running' || result.violation === 'unique') && row.ended_at !== null) {
        const same = Number(row.ended_at) === endedAt && (row.success_metric ?? null) === successMetric;
        if (!same)
          throw new errors.AlreadyEnded(`jamming-operation ${id} already ended at ${Number(row.ended_at)}`);
        return jammingOperationType.view(row);
      }
      throw unexpectedWriteFailure(result);
    },
  );
}
