import {
  appendEvidence,
  classifyDbError,
  endJammingOperation,
  findJammingOperation,
  isUniqueViolation,
  newId,
} from '@fieldproof/db';
import type { JammingOperationRow } from '@fieldproof/db';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import { errors } from '../errors/catalogue.js';
import { errorResponses, idParams } from '../http/schemas.js';
import type { WriteOp } from '../write/group-committer.js';
import { endBodySchema, jammingOperationType } from './jamming-operations.js';
import { recordEvidence } from './record-routes.js';

interface EndBody {
  endedAt: number;
  successMetric?: number;
}

/** The conditional UPDATE matched no running operation: missing, or already ended. */
class NotRunning extends Error {}

/**
 * PATCH /v1/jamming-operations/:id ends a running operation. The end is itself evidence (kind
 * `jamming-operation-end`), written with the update in one transaction. Ending again with the same
 * endedAt and successMetric is a replay (200); with others, 409; before startedAt, 422 (the table's
 * CHECK constraint, decided from its code).
 */
export async function jammingOperationEndRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { committer, metrics, now } = ctx;
  app.patch<{ Params: { id: string }; Body: EndBody }>(
    '/v1/jamming-operations/:id',
    {
      schema: {
        tags: [jammingOperationType.tag],
        summary: 'End a jamming operation (endedAt, successMetric)',
        params: idParams,
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
      );
      const op: WriteOp<{ row: JammingOperationRow | undefined; ended: boolean }> = {
        async apply(trx) {
          await appendEvidence(trx, [evidence]);
          const ended = await endJammingOperation(trx, {
            id,
            endedAt,
            successMetric,
            endEvidenceId: evidence.id,
            updatedAt: recordedAt,
          });
          if (!ended) throw new NotRunning();
          return { row: await findJammingOperation(trx, id), ended: true };
        },
        async recover(trx, err) {
          const row = await findJammingOperation(trx, id);
          if (row === undefined) throw new errors.NotFound(`no jamming-operation ${id}`);
          if (classifyDbError(err) === 'check') {
            throw new errors.EndedBeforeStart(
              `endedAt ${endedAt} is before startedAt ${Number(row.started_at)}`,
            );
          }
          if (!(err instanceof NotRunning) && !isUniqueViolation(err)) throw err;
          if (row.ended_at === null) throw err;
          const same = Number(row.ended_at) === endedAt && (row.success_metric ?? null) === successMetric;
          if (!same)
            throw new errors.AlreadyEnded(`jamming-operation ${id} already ended at ${Number(row.ended_at)}`);
          return { row, ended: false };
        },
      };
      const result = await committer.submit(op);
      if (result.ended) metrics.intake.inc({ source: 'record' });
      return jammingOperationType.view(result.row!);
    },
  );
}
