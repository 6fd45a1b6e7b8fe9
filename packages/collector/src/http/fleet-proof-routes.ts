import type { FastifyInstance } from 'fastify';
import type { CollectorContext } from './collector-context.js';
import { errors } from './collector-errors.js';
import { originParams } from './device-params.js';

/** At most this many entries per answer (docs/COLLECTOR.md, "Fleet anchoring"). */
const FLEET_PROOFS_LIMIT_MAX = 256;

/**
 * `GET /v1/devices/:origin/fleet-proofs?after=&limit=` (docs/COLLECTOR.md, "Fleet anchoring"): the current v2 receipts of
 * this device's fleet leaves whose anchoring changed since `after`. Registered inside the push routes'
 * scope: the same push-key authentication, scoped to the device's own origin.
 */
export async function fleetProofRoutes(app: FastifyInstance, ctx: CollectorContext): Promise<void> {
  app.get<{ Params: { origin: string }; Querystring: { after?: string; limit?: string } }>(
    '/v1/devices/:origin/fleet-proofs',
    {
      schema: {
        params: originParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'string', maxLength: 512 },
            limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' },
          },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['fleetKey', 'fleetOrigin', 'cursor', 'more', 'proofs'],
            properties: {
              fleetKey: { type: 'string' },
              fleetOrigin: { type: 'string' },
              cursor: { type: 'string' },
              more: { type: 'boolean' },
              proofs: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['treeSize', 'noteHash', 'receipt'],
                  properties: {
                    treeSize: { type: 'integer' },
                    noteHash: { type: 'string' },
                    // The receipt as built and verified by @fieldproof/proofs: passed through whole.
                    receipt: { type: 'object', additionalProperties: true },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? 64 : Number(request.query.limit);
      if (limit > FLEET_PROOFS_LIMIT_MAX) {
        throw new errors.Validation(`limit must be 1…${FLEET_PROOFS_LIMIT_MAX}`);
      }
      const fleet = ctx.fleet;
      if (fleet === undefined) {
        throw new errors.FleetDisabled(
          'this collector keeps no fleet log (KEEPER_PROVIDER is not evm or multi)',
        );
      }
      let page;
      try {
        page = await fleet.listProofs({
          deviceId: request.device!.id,
          after: request.query.after,
          limit,
          now: ctx.now(),
        });
      } catch (err) {
        if (err instanceof Error && err.name === 'FleetCursorError') throw new errors.BadCursor(err.message);
        throw err;
      }
      return { fleetKey: fleet.verifierKey, fleetOrigin: fleet.origin, ...page };
    },
  );
}
