import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import { collectorsView } from '../status/unit-status.js';

const nullableInt = { type: ['integer', 'null'] } as const;

export const getCollectorsSchema = {
  tags: ['proofs'],
  summary: 'The fleet collectors this unit pushes to: acknowledged tree size, lag, last error',
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['now', 'treeSize', 'collectors'],
      properties: {
        now: { type: 'integer', description: 'server time of this answer, Unix ms' },
        treeSize: {
          type: 'integer',
          description: "the unit's newest signed checkpoint's tree size (0: none)",
        },
        collectors: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: [
              'name',
              'url',
              'ackedTreeSize',
              'ackedAt',
              'lagLeaves',
              'lagSeconds',
              'lastError',
              'lastErrorAt',
              'stopped',
              'fleet',
            ],
            properties: {
              name: { type: 'string' },
              url: { type: ['string', 'null'], description: 'null: not in this process’s KEEPER_COLLECTORS' },
              ackedTreeSize: { type: 'integer', description: 'largest tree size the collector acknowledged' },
              ackedAt: { ...nullableInt, description: 'when it did, Unix ms' },
              lagLeaves: { type: 'integer', description: 'leaves signed here, not yet acknowledged' },
              lagSeconds: {
                type: 'number',
                description: 'age of the oldest unacknowledged leaf (0: caught up)',
              },
              lastError: { type: ['string', 'null'] },
              lastErrorAt: nullableInt,
              stopped: { type: 'boolean', description: 'a refusal no retry fixes stopped pushing to it' },
              fleet: {
                type: ['object', 'null'],
                description: 'fleet proofs fetched back from it (null: no fleetKey configured, none stored)',
                additionalProperties: false,
                required: ['finalTreeSize', 'lagLeaves', 'fetchedAt', 'lastError', 'lastErrorAt', 'stopped'],
                properties: {
                  finalTreeSize: {
                    type: 'integer',
                    description: 'largest checkpoint of this unit final through its fleet anchors (0: none)',
                  },
                  lagLeaves: { type: 'integer', description: 'leaves signed here not yet final through it' },
                  fetchedAt: { ...nullableInt, description: 'last page of fleet proofs taken, Unix ms' },
                  lastError: { type: ['string', 'null'] },
                  lastErrorAt: nullableInt,
                  stopped: {
                    type: 'boolean',
                    description: 'a fleet proof that did not verify stopped fetching',
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** GET /v1/collectors (scope `read`): the unit's side of each fleet collector (issue 15). */
export async function collectorRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { database, config, now } = ctx;
  app.get('/v1/collectors', { schema: getCollectorsSchema, config: { scope: 'read' } }, async () =>
    collectorsView(database.db, config.keeper.collectors, now()),
  );
}
