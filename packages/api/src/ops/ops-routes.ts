import { assertMigrationsCurrent } from '@fieldproof/db';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import { errors } from '../errors/catalogue.js';
import { errorResponses, noQuery } from '../http/schemas.js';

const statusSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string' } },
} as const;

/** Probes keep answering under load shedding and are not rate limited. */
const openProbe = { scope: 'none', rateLimit: false, loadShedding: false } as const;

/** /healthz and /readyz (open), /metrics (read scope). */
export async function opsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        querystring: noQuery,
        security: [],
        response: { 200: statusSchema },
      },
      config: openProbe,
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Readiness: the database answers, every migration is applied, storage is not full ' +
          '(507 FP_STORAGE_FULL after a write failed for lack of space, until there is room again), and ' +
          'the clock is not behind the newest finalized block or the last signed checkpoint ' +
          '(503 FP_NOT_READY naming both times; new records are flagged clockSuspect meanwhile)',
        querystring: noQuery,
        security: [],
        response: { 200: statusSchema, ...errorResponses },
      },
      config: openProbe,
    },
    async (request) => {
      try {
        await assertMigrationsCurrent(ctx.database);
      } catch (err) {
        request.log.warn({ err }, 'not ready');
        throw new errors.NotReady('the database is unreachable or not migrated');
      }
      const full = await ctx.storage.check();
      if (full !== undefined) throw new errors.StorageFull(full);
      await ctx.notBefore.refresh();
      const clock = ctx.notBefore.clockProblem(ctx.now());
      if (clock !== undefined) throw new errors.NotReady(`clock suspect: ${clock}`);
      return { status: 'ready' };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        querystring: noQuery,
        response: { 200: { type: 'string' }, ...errorResponses },
      },
      config: { scope: 'read' },
    },
    async (_request, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );
}
