import fs from 'node:fs';
import { KeyAuthenticator } from '@fieldproof/api';
import type { RouteTypes } from '@fieldproof/api';
import { hasScope } from '@fieldproof/db';
import { toHex } from '@fieldproof/merkle';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { deviceConsistencyProof, deviceInclusionProof } from '../audit/device-proofs.js';
import { MirroredEvidenceNotFoundError, deviceReceipt } from '../audit/device-receipt.js';
import {
  deviceHasContent,
  findDeviceLeafByEvidenceId,
  getDeviceCheckpoint,
  listDeviceLeaves,
} from '../db/device-tree.js';
import type { DeviceLeafRow } from '../db/device-tree.js';
import { findDeviceAnchor } from '../db/device-anchors.js';
import { findDeviceByOrigin, listDevices } from '../db/devices.js';
import type { DeviceRow } from '../db/devices.js';
import type { CollectorContext } from './collector-context.js';
import { originAnd, originAndDigest, originParams } from './device-params.js';
import { errors } from './collector-errors.js';

/** How long a read key lookup is cached (a revoked key stops working within this). */
const KEY_CACHE_MS = 5_000;
const MAX_PAGE = 1_000;

/** Query values arrive as strings (no coercion): whole numbers, parsed by {@link size}. */
const wholeNumber = { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$' } as const;

function size(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : Number(value);
}

function leafView(row: DeviceLeafRow) {
  return {
    leafIndex: row.leaf_index,
    leafHash: row.leaf_hash,
    contentStored: row.content_stored === 1,
    record: JSON.parse(row.record) as object,
  };
}

/**
 * The auditor's read-only view of every mirrored device's log (issue 15, "For auditors"), authenticated by
 * read keys made with `fieldproof keys create --collector` (the api's `read` scope; `admin` includes it).
 * Everything is served from the collector's database and content folder alone: the unit may be gone.
 *
 * ```text
 * GET /v1/devices                                       mirrored devices and their held heads
 * GET /v1/devices/:origin/checkpoint[?treeSize=N]       a cosigned checkpoint (default: the held head)
 * GET /v1/devices/:origin/leaves?from=&limit=           records in leaf order
 * GET /v1/devices/:origin/evidence/:id                  one record with its leaf index
 * GET /v1/devices/:origin/evidence/:id/receipt[?format=v1]  fieldproof-receipt/v2 (v1 on request), verifiable offline
 * GET /v1/devices/:origin/proofs/inclusion?leafIndex=&treeSize=
 * GET /v1/devices/:origin/proofs/consistency?from=&to=
 * GET /v1/devices/:origin/content/:digest               mirrored raw bytes
 * GET /v1/devices/:origin/anchors/:txHash/proof         a pushed final anchor's proof (FORMATS §8)
 * ```
 */
export async function auditRoutes(app: FastifyInstance, ctx: CollectorContext): Promise<void> {
  const keys = new KeyAuthenticator(ctx.collector.database, KEY_CACHE_MS, ctx.now);
  const db = ctx.collector.db;
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (header === undefined) {
      throw new errors.Unauthorized(
        'missing Authorization: Bearer <read key> (create one with fieldproof keys create --collector --scopes read)',
      );
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (match === null) throw new errors.Unauthorized('the Authorization header must be "Bearer <read key>"');
    const principal = await keys.authenticate(match[1]!);
    if (principal === null) throw new errors.Unauthorized('unknown or revoked read key');
    if (!hasScope(principal.scopes, 'read')) {
      throw new errors.Forbidden(
        `these routes need the read scope; the key has ${principal.scopes.join(', ')}`,
      );
    }
  });

  async function deviceOf(origin: string): Promise<DeviceRow> {
    const device = await findDeviceByOrigin(db, origin);
    if (device === undefined) throw new errors.NotFound(`no device ${origin} is enrolled`);
    return device;
  }

  /** A signed checkpoint of `treeSize` the collector accepted (and so cosigned). */
  async function checkpointOf(device: DeviceRow, treeSize: number) {
    const checkpoint = treeSize === 0 ? undefined : await getDeviceCheckpoint(db, device.id, treeSize);
    if (checkpoint === undefined) {
      throw new errors.NotFound(
        device.tree_size === 0
          ? `nothing mirrored for ${device.origin} yet`
          : `no cosigned checkpoint of tree size ${treeSize} for ${device.origin} (held: ${device.tree_size})`,
      );
    }
    return checkpoint;
  }

  app.get('/v1/devices', async () => ({
    devices: (await listDevices(db)).map((d) => ({
      origin: d.origin,
      verifierKey: d.verifier_key,
      label: d.label,
      treeSize: d.tree_size,
      rootHash: d.root_hash,
      revoked: d.revoked_at !== null,
      updatedAt: d.updated_at,
    })),
  }));

  const checkpointSchema = {
    params: originParams,
    querystring: { type: 'object', additionalProperties: false, properties: { treeSize: wholeNumber } },
  } as const;
  app.get<RouteTypes<typeof checkpointSchema>>(
    '/v1/devices/:origin/checkpoint',
    { schema: checkpointSchema },
    async (request) => {
      const device = await deviceOf(request.params.origin);
      const checkpoint = await checkpointOf(device, size(request.query.treeSize, device.tree_size));
      return {
        origin: device.origin,
        treeSize: checkpoint.tree_size,
        rootHash: checkpoint.root_hash,
        checkpoint: checkpoint.signed_note,
        cosignature: checkpoint.cosignature,
        cosignedCheckpoint: checkpoint.signed_note + checkpoint.cosignature,
        cosignedAt: checkpoint.cosigned_at,
        verifierKey: device.verifier_key,
        witnessKey: ctx.cosigner.verifierKey,
      };
    },
  );

  const leavesSchema = {
    params: originParams,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { from: wholeNumber, limit: wholeNumber },
    },
  } as const;
  app.get<RouteTypes<typeof leavesSchema>>(
    '/v1/devices/:origin/leaves',
    { schema: leavesSchema },
    async (request) => {
      const device = await deviceOf(request.params.origin);
      const from = size(request.query.from, 0);
      const limit = size(request.query.limit, 100);
      if (limit < 1 || limit > MAX_PAGE) throw new errors.Validation(`limit must be 1…${MAX_PAGE}`);
      const rows = await listDeviceLeaves(db, device.id, from, limit);
      const leaves = rows.filter((r) => r.leaf_index < device.tree_size).map(leafView);
      const next = from + leaves.length;
      return {
        origin: device.origin,
        treeSize: device.tree_size,
        leaves,
        next: next < device.tree_size ? next : null,
      };
    },
  );

  const evidenceSchema = {
    params: originAnd('id', { type: 'string', minLength: 1, maxLength: 128 } as const),
  } as const;
  app.get<RouteTypes<typeof evidenceSchema>>(
    '/v1/devices/:origin/evidence/:id',
    { schema: evidenceSchema },
    async (request) => {
      const device = await deviceOf(request.params.origin);
      const leaf = await findDeviceLeafByEvidenceId(db, device.id, request.params.id);
      if (leaf === undefined || leaf.leaf_index >= device.tree_size) {
        throw new errors.NotFound(`no record ${request.params.id} mirrored for ${device.origin}`);
      }
      return { origin: device.origin, ...leafView(leaf) };
    },
  );

  const receiptSchema = {
    params: evidenceSchema.params,
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { format: { type: 'string', enum: ['v1', 'v2'] } },
    },
  } as const;
  app.get<RouteTypes<typeof receiptSchema>>(
    '/v1/devices/:origin/evidence/:id/receipt',
    { schema: receiptSchema },
    async (request) => {
      const device = await deviceOf(request.params.origin);
      const format = request.query.format === 'v1' ? 'fieldproof-receipt/v1' : 'fieldproof-receipt/v2';
      try {
        return await deviceReceipt(db, device, request.params.id, {
          witnessKey: ctx.cosigner.verifierKey,
          format,
        });
      } catch (err) {
        if (err instanceof MirroredEvidenceNotFoundError) throw new errors.NotFound(err.message);
        throw err;
      }
    },
  );

  const anchorProofSchema = {
    params: originAnd('txHash', { type: 'string', pattern: '^0x[0-9a-f]{64}$' } as const),
  } as const;
  app.get<RouteTypes<typeof anchorProofSchema>>(
    '/v1/devices/:origin/anchors/:txHash/proof',
    { schema: anchorProofSchema },
    async (request) => {
      const device = await deviceOf(request.params.origin);
      const anchor = await findDeviceAnchor(db, device.id, request.params.txHash);
      if (anchor === undefined) {
        throw new errors.NotFound(`no anchor ${request.params.txHash} pushed by ${device.origin}`);
      }
      if (anchor.state !== 'final') {
        throw new errors.NotFound(
          `anchor ${anchor.txHash} is ${anchor.state}: the unit reported the chain no longer has it`,
        );
      }
      return anchor.proof;
    },
  );

  const inclusionSchema = {
    params: originParams,
    querystring: {
      type: 'object',
      additionalProperties: false,
      required: ['leafIndex'],
      properties: { leafIndex: wholeNumber, treeSize: wholeNumber },
    },
  } as const;
  app.get<RouteTypes<typeof inclusionSchema>>(
    '/v1/devices/:origin/proofs/inclusion',
    { schema: inclusionSchema },
    async (request) => {
      const device = await deviceOf(request.params.origin);
      const treeSize = size(request.query.treeSize, device.tree_size);
      const leafIndex = Number(request.query.leafIndex);
      const checkpoint = await checkpointOf(device, treeSize);
      if (leafIndex >= treeSize) {
        throw new errors.Validation(`leafIndex ${leafIndex} is not below treeSize ${treeSize}`);
      }
      const proof = await deviceInclusionProof(db, device.id, leafIndex, treeSize);
      return { leafIndex, treeSize, rootHash: checkpoint.root_hash, proof: proof.map(toHex) };
    },
  );

  const consistencySchema = {
    params: originParams,
    querystring: {
      type: 'object',
      additionalProperties: false,
      required: ['from'],
      properties: { from: wholeNumber, to: wholeNumber },
    },
  } as const;
  app.get<RouteTypes<typeof consistencySchema>>(
    '/v1/devices/:origin/proofs/consistency',
    { schema: consistencySchema },
    async (request) => {
      const device = await deviceOf(request.params.origin);
      const from = Number(request.query.from);
      const to = size(request.query.to, device.tree_size);
      if (from > to) throw new errors.Validation(`from (${from}) is larger than to (${to})`);
      await checkpointOf(device, from);
      await checkpointOf(device, to);
      const proof = await deviceConsistencyProof(db, device.id, from, to);
      return { from, to, proof: proof.map(toHex) };
    },
  );

  const contentSchema = { params: originAndDigest } as const;
  app.get<RouteTypes<typeof contentSchema>>(
    '/v1/devices/:origin/content/:digest',
    { schema: contentSchema },
    async (request, reply) => {
      const device = await deviceOf(request.params.origin);
      const { digest } = request.params;
      if (!(await deviceHasContent(db, device.id, digest))) {
        throw new errors.NotFound(`no content ${digest} mirrored for ${device.origin}`);
      }
      const file = ctx.content.pathOf(digest);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat === undefined) throw new errors.NotFound(`content ${digest} is not in the content folder`);
      return reply
        .type('application/octet-stream')
        .header('content-length', stat.size)
        .send(fs.createReadStream(file));
    },
  );
}
