import { assertMigrationsCurrent } from '@fieldproof/db';
import type { FastifyInstance } from 'fastify';
import type { FromSchema } from 'json-schema-to-ts';
import { COLLECTOR_MIGRATIONS_DIR } from '../db/collector-database.js';
import { findDeviceByOrigin } from '../db/devices.js';
import { listEquivocations } from '../db/equivocations.js';
import type { CollectorContext } from './collector-context.js';
import { originParams } from './device-params.js';
import { errors } from './collector-errors.js';

const status = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string' }, fleet: { type: 'string' } },
} as const;

const equivocationSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'reason',
    'heldTreeSize',
    'heldCheckpoint',
    'pushedTreeSize',
    'pushedCheckpoint',
    'consistency',
    'detectedAt',
  ],
  properties: {
    id: { type: 'string' },
    reason: { type: 'string', enum: ['same_size_other_root', 'not_consistent'] },
    heldTreeSize: { type: 'integer' },
    heldCheckpoint: { type: 'string' },
    pushedTreeSize: { type: 'integer' },
    pushedCheckpoint: { type: 'string' },
    consistency: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { fromTreeSize: { type: 'integer' }, proof: { type: 'array', items: { type: 'string' } } },
    },
    detectedAt: { type: 'integer' },
  },
} as const;

/**
 * Routes anyone may call: probes, metrics, the witness key and fork proofs. A fork proof holds only two
 * signed checkpoints (sizes and roots, no evidence), and publishing it is the point of a witness.
 */
export async function publicRoutes(app: FastifyInstance, ctx: CollectorContext): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: status } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { response: { 200: status } } }, async (request) => {
    try {
      await assertMigrationsCurrent(ctx.collector.database, { dir: COLLECTOR_MIGRATIONS_DIR });
    } catch (err) {
      request.log.warn({ err }, 'not ready');
      throw new errors.NotReady('the database is unreachable or not migrated');
    }
    // Fleet anchoring trouble (a chain down, the signer short of funds, a lost anchor not yet covered)
    // does not make the collector unready: mirroring and cosigning — what units push for — still work,
    // and a load balancer that dropped every replica would stop them too. It is said here, in the log
    // and in the anchoring metrics instead.
    const fleet = ctx.fleet?.readiness();
    if (fleet === undefined) return { status: 'ready' };
    if (!fleet.ok) request.log.warn({ detail: fleet.detail }, 'fleet anchoring is not healthy');
    return { status: 'ready', fleet: `${fleet.ok ? 'ok' : 'NOT OK'}: ${fleet.detail}` };
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
  app.get(
    '/v1/witness',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'verifierKey'],
            properties: { name: { type: 'string' }, verifierKey: { type: 'string' } },
          },
        },
      },
    },
    async () => ({ name: ctx.cosigner.name, verifierKey: ctx.cosigner.verifierKey }),
  );
  app.get<{ Params: FromSchema<typeof originParams> }>(
    '/v1/devices/:origin/equivocations',
    {
      schema: {
        params: originParams,
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['origin', 'equivocations'],
            properties: {
              origin: { type: 'string' },
              equivocations: { type: 'array', items: equivocationSchema },
            },
          },
        },
      },
    },
    async (request) => {
      const device = await findDeviceByOrigin(ctx.collector.db, request.params.origin);
      if (device === undefined) throw new errors.NotFound('no device enrolled with this origin');
      const rows = await listEquivocations(ctx.collector.db, device.id);
      return {
        origin: device.origin,
        equivocations: rows.map((r) => ({
          id: r.id,
          reason: r.reason,
          heldTreeSize: r.held_tree_size,
          heldCheckpoint: r.held_checkpoint,
          pushedTreeSize: r.pushed_tree_size,
          pushedCheckpoint: r.pushed_checkpoint,
          consistency: r.consistency === null ? null : (JSON.parse(r.consistency) as object),
          detectedAt: r.detected_at,
        })),
      };
    },
  );
}
