import { findAnchorProofOfJob, listAnchorsPage } from '@fieldproof/db';
import { toHex } from '@fieldproof/merkle';
import {
  EvidenceNotFoundError,
  NotSequencedError,
  checkpointAt,
  consistencyProofFor,
  deviceVerifierKeyOrThrow,
  latestCheckpoint,
  receiptFor,
} from '@fieldproof/proofs';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../app-context.js';
import { errors } from '../errors/catalogue.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import type { RouteTypes } from '../http/schemas.js';
import { outboxView } from '../status/unit-status.js';
import {
  getAnchorProofSchema,
  getCheckpointSchema,
  getConsistencySchema,
  getOutboxSchema,
  getReceiptSchema,
  listAnchorsSchema,
  receiptSchema,
} from './proof-schemas.js';

/**
 * What lets anyone check the log without trusting the server: GET /v1/evidence/:id/receipt,
 * /v1/log/checkpoint, /v1/log/consistency, /v1/anchors/:id/proof; and the anchoring status pages
 * GET /v1/anchors, /v1/outbox.
 * All read-only, scope `read`. Proofs and receipts come from `@fieldproof/proofs` (O(log n) node reads).
 */
export async function proofRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { database, now } = ctx;
  const db = database.db;
  app.addSchema(receiptSchema);

  app.get<RouteTypes<typeof getReceiptSchema>>(
    '/v1/evidence/:id/receipt',
    { schema: getReceiptSchema, config: { scope: 'read' } },
    async (request) => {
      try {
        const format = request.query.format === 'v1' ? 'fieldproof-receipt/v1' : 'fieldproof-receipt/v2';
        return await receiptFor(db, request.params.id, { format });
      } catch (err) {
        if (err instanceof EvidenceNotFoundError) throw new errors.NotFound(`no evidence ${err.evidenceId}`);
        if (err instanceof NotSequencedError) {
          throw new errors.NotSequenced(
            `evidence ${err.evidenceId} is not in the log yet; its receipt exists once the keeper sequenced it`,
          );
        }
        throw err;
      }
    },
  );

  app.get('/v1/log/checkpoint', { schema: getCheckpointSchema, config: { scope: 'read' } }, async () => {
    const checkpoint = await latestCheckpoint(db);
    if (checkpoint === undefined) throw new errors.CheckpointNotFound('the log has no signed checkpoint yet');
    return { ...checkpoint, verifierKey: await deviceVerifierKeyOrThrow(db) };
  });

  app.get<RouteTypes<typeof getConsistencySchema>>(
    '/v1/log/consistency',
    { schema: getConsistencySchema, config: { scope: 'read' } },
    async (request) => {
      const { from, to } = request.query;
      if (from > to) throw new errors.InvalidRange(`from (${from}) is larger than to (${to})`);
      for (const size of from === to ? [to] : [from, to]) {
        if ((await checkpointAt(db, size)) === undefined) {
          throw new errors.CheckpointNotFound(`no checkpoint of tree size ${size} was written`);
        }
      }
      const proof = await consistencyProofFor(db, from, to);
      return { from, to, proof: proof.map(toHex) };
    },
  );

  app.get<RouteTypes<typeof listAnchorsSchema>>(
    '/v1/anchors',
    { schema: listAnchorsSchema, config: { scope: 'read' } },
    async (request) => {
      const q = request.query;
      const scope = `anchors:${q.order}`;
      const after = q.cursor === undefined ? undefined : decodeCursor(scope, q.cursor);
      const page = await listAnchorsPage(db, {
        order: q.order,
        limit: q.limit,
        after: after === undefined ? undefined : { treeSize: after.key, id: after.id },
        chain: q.chain,
        state: q.state,
      });
      const last = page.rows.at(-1);
      const nextCursor =
        page.more && last !== undefined ? encodeCursor(scope, { key: last.treeSize, id: last.id }) : null;
      return { items: page.rows, nextCursor };
    },
  );

  app.get<RouteTypes<typeof getAnchorProofSchema>>(
    '/v1/anchors/:id/proof',
    { schema: getAnchorProofSchema, config: { scope: 'read' } },
    async (request) => {
      const { id } = request.params;
      const found = await findAnchorProofOfJob(db, id);
      if (found.found === 'proof') return found.proof;
      if (found.found === 'no-job') throw new errors.NotFound(`no anchor ${id}`);
      throw new errors.NotFound(
        found.state === 'final'
          ? `anchor ${id} is final but its proof is not built yet (the keeper retries on its next polls)`
          : `anchor ${id} is ${found.state}: only a final anchor has a proof`,
      );
    },
  );

  app.get<RouteTypes<typeof getOutboxSchema>>(
    '/v1/outbox',
    { schema: getOutboxSchema, config: { scope: 'read' } },
    async (request) => outboxView(db, now(), request.query.deadLimit),
  );
}
