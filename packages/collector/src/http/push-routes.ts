import fs from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { RouteTypes } from '@fieldproof/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticatePushKey } from '../enrollment/enrollment.js';
import type { DeviceRow } from '../db/devices.js';
import { getDeviceCheckpoint } from '../db/device-tree.js';
import { applyPush } from '../push/apply-push.js';
import { PushRefusedError } from '../push/push-errors.js';
import type { PushRefusal } from '../push/push-errors.js';
import { pushAcceptedSchema, pushRequestSchema } from '../push/push-request.js';
import type { PushProtocol, PushRequest } from '../push/push-request.js';
import { verifyPush } from '../push/verify-push.js';
import type { CollectorContext } from './collector-context.js';
import { originAndDigest, originParams } from './device-params.js';
import { errors } from './collector-errors.js';
import { fleetProofRoutes } from './fleet-proof-routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The enrolled device whose push key authenticated the request (push routes only). */
    device: DeviceRow | null;
  }
}

const headSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['origin', 'treeSize', 'rootHash', 'checkpoint', 'cosignature', 'cosignedAt'],
  properties: {
    origin: { type: 'string' },
    treeSize: { type: 'integer' },
    rootHash: { type: ['string', 'null'] },
    checkpoint: { type: ['string', 'null'] },
    cosignature: { type: ['string', 'null'] },
    cosignedAt: { type: ['integer', 'null'] },
  },
} as const;

const REFUSALS: Readonly<Record<PushRefusal['kind'], (m: string) => Error>> = {
  bad_checkpoint: (m) => new errors.BadCheckpoint(m),
  leaf_mismatch: (m) => new errors.LeafMismatch(m),
  leaf_gap: (m) => new errors.LeafGap(m),
  root_mismatch: (m) => new errors.RootMismatch(m),
  content_missing: (m) => new errors.ContentMissing(m),
  equivocation: (m) => new errors.Equivocation(m),
  bad_anchor_proof: (m) => new errors.BadAnchorProof(m),
  anchor_mismatch: (m) => new errors.AnchorMismatch(m),
};

/**
 * The unit-facing routes, each authenticated by the device's push key (`Authorization: Bearer fp_…`) and
 * scoped to its own origin (percent-encoded in the path: `/v1/devices/example.com%2Flog%2Funit-7/…`).
 */
export async function pushRoutes(
  app: FastifyInstance,
  ctx: CollectorContext,
  protocol: PushProtocol = 2,
): Promise<void> {
  app.decorateRequest('device', null);
  app.addHook('onRequest', async (request: FastifyRequest<{ Params: { origin?: string } }>) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (match === null) throw new errors.Unauthorized('missing Authorization: Bearer <push key>');
    const device = await authenticatePushKey(ctx.collector, match[1]!);
    if (device === undefined) throw new errors.Unauthorized('unknown or revoked push key');
    if (device.origin !== request.params.origin) {
      throw new errors.WrongDevice('this push key is enrolled for another origin');
    }
    request.device = device;
  });
  // Content arrives as a stream into the content store, hashed on the way; nothing is buffered.
  app.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null, undefined));

  app.get(
    '/v1/devices/:origin',
    { schema: { params: originParams, response: { 200: headSchema } } },
    async (request) => {
      const device = request.device!;
      const checkpoint =
        device.tree_size > 0
          ? await getDeviceCheckpoint(ctx.collector.db, device.id, device.tree_size)
          : undefined;
      return {
        origin: device.origin,
        treeSize: device.tree_size,
        rootHash: device.root_hash,
        checkpoint: checkpoint?.signed_note ?? null,
        cosignature: checkpoint?.cosignature ?? null,
        cosignedAt: checkpoint?.cosigned_at ?? null,
      };
    },
  );

  const putContentSchema = {
    params: originAndDigest,
    response: {
      201: {
        type: 'object',
        additionalProperties: false,
        required: ['digest', 'size'],
        properties: { digest: { type: 'string' }, size: { type: 'integer' } },
      },
    },
  } as const;
  app.put<RouteTypes<typeof putContentSchema>>(
    '/v1/devices/:origin/content/:digest',
    { schema: putContentSchema },
    async (request, reply) => {
      if (request.headers['content-type'] !== 'application/octet-stream') {
        throw new errors.UnsupportedMediaType('content is application/octet-stream');
      }
      const encoding = request.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity' && encoding !== 'gzip') {
        throw new errors.UnsupportedMediaType(`content-encoding ${encoding} (use gzip)`);
      }
      // The limit counts decompressed bytes, so a gzip bomb stops there too.
      const source = encoding === 'gzip' ? request.raw.pipe(clientGunzip()) : request.raw;
      const stored = await ctx.content.put(source, ctx.config.contentLimitBytes, request.params.digest);
      return reply.code(201).send({ digest: stored.digest, size: stored.size });
    },
  );

  app.post<{ Params: { origin: string }; Body: PushRequest }>(
    '/v1/devices/:origin/push',
    {
      schema: {
        params: originParams,
        body: pushRequestSchema(ctx.config.pushMaxLeaves, protocol),
        response: { 200: pushAcceptedSchema },
      },
    },
    async (request) => {
      const started = performance.now();
      const device = request.device!;
      try {
        const push = verifyPush(request.body, { origin: device.origin, verifierKey: device.verifier_key });
        for (const leaf of push.leaves) {
          if (leaf.contentStored && !(await exists(ctx.content.pathOf(leaf.digest)))) {
            throw new PushRefusedError({
              kind: 'content_missing',
              message: `leaf ${leaf.leafIndex}: PUT the content ${leaf.digest} before pushing its leaf`,
            });
          }
        }
        const accepted = await applyPush(ctx, device.id, push, device);
        ctx.metrics.pushes.inc({ outcome: accepted.appended > 0 ? 'accepted' : 'resent' });
        ctx.metrics.leavesIngested.inc(accepted.appended);
        ctx.metrics.pushDuration.observe((performance.now() - started) / 1000);
        return accepted;
      } catch (err) {
        if (!(err instanceof PushRefusedError)) throw err;
        const coded = REFUSALS[err.refusal.kind](err.message);
        ctx.metrics.pushes.inc({ outcome: (coded as Error & { code: string }).code });
        if (err.refusal.kind === 'equivocation') {
          ctx.metrics.equivocations.inc();
          request.log.error(
            { origin: device.origin, reason: err.message, checkpoint: request.body.checkpoint },
            'equivocation: a device pushed a checkpoint that does not extend what the collector cosigned',
          );
        }
        throw coded;
      }
    },
  );

  await fleetProofRoutes(app, ctx);
}

/** A gunzip stream whose errors (corrupt input) are the client's: 400, not 500. */
function clientGunzip() {
  return createGunzip().on('error', (err: Error & { statusCode?: number }) => {
    err.statusCode = 400;
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}
