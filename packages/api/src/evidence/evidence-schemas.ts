import type { FromSchema } from 'json-schema-to-ts';
import {
  digestInput,
  digestOutput,
  errorResponses,
  idParams,
  idSchema,
  kindSchema,
  metadataInput,
  millis,
  mimeSchema,
  noQuery,
  pageQuery,
  pageSchema,
} from '../http/schemas.js';

export const EVIDENCE_STATUSES = ['pending', 'sequenced', 'anchored', 'confirmed', 'final'] as const;

const anchorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['chain', 'chainId', 'state', 'treeSize', 'txHash', 'blockNumber', 'blockHash', 'blockTimestamp'],
  properties: {
    chain: { type: 'string' },
    chainId: { type: 'integer', description: '0 for a stub anchor (no chain)' },
    state: { type: 'string', description: 'best state of an anchor covering this leaf on this chain' },
    treeSize: { type: 'integer', description: 'tree size of the covering checkpoint' },
    txHash: { type: ['string', 'null'] },
    blockNumber: { type: ['integer', 'null'] },
    blockHash: { type: ['string', 'null'] },
    blockTimestamp: { type: ['integer', 'null'], description: 'Unix milliseconds' },
    via: {
      type: 'string',
      description:
        "the fleet collector this anchor came through (the anchor of its fleet checkpoint); absent: the unit's own anchor",
    },
  },
} as const;

const blockSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['chainId', 'number', 'hash', 'timestamp'],
  properties: {
    chainId: { type: 'integer' },
    number: { type: 'integer' },
    hash: { type: 'string', description: '0x + 64 lowercase hex' },
    timestamp: { type: 'integer', description: 'block time, Unix milliseconds' },
  },
} as const;

/** docs/API.md "Time bracket". */
const bracketSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  description:
    'null until an anchor covering the record is final; then the record was written after notBefore ' +
    "(the leaf's block) and existed no later than notAfter (the earliest final anchoring block)",
  required: ['notBefore', 'notAfter', 'widthMs', 'occurredAtOffsetMs'],
  properties: {
    notBefore: { ...blockSchema, type: ['object', 'null'] },
    notAfter: {
      ...blockSchema,
      required: [...blockSchema.required, 'source'],
      properties: {
        ...blockSchema.properties,
        source: {
          type: 'string',
          enum: ['header', 'anchor'],
          description:
            "'header': from the stored anchor proof's block header; 'anchor': the anchor's block time",
        },
      },
    },
    widthMs: { type: ['integer', 'null'], description: 'notAfter − notBefore; null without notBefore' },
    occurredAtOffsetMs: {
      type: 'integer',
      description: '0: occurredAt is inside; < 0: before notBefore by that much; > 0: after notAfter',
    },
  },
} as const;

const evidenceProperties = {
  id: idSchema,
  digest: digestOutput,
  kind: { type: 'string' },
  source: { type: 'string', enum: ['digest', 'json', 'bytes', 'record'] },
  occurredAt: { type: 'integer' },
  receivedAt: { type: 'integer' },
  payloadMime: { type: ['string', 'null'] },
  payloadSize: { type: ['integer', 'null'] },
  metadata: { type: ['object', 'null'], additionalProperties: true },
  contentStored: { type: 'boolean', description: 'GET …/content serves the content' },
  leafIndex: { type: ['integer', 'null'], description: 'position in the log once sequenced' },
  status: { type: 'string', enum: EVIDENCE_STATUSES },
  leafFormat: { type: 'string', enum: ['fieldproof-leaf/v1', 'fieldproof-leaf/v2'] },
  notBefore: {
    ...blockSchema,
    type: ['object', 'null'],
    description: 'the newest finalized block the api knew when it accepted the record; null: none known',
  },
  clockSuspect: {
    type: ['boolean', 'null'],
    description: 'the api clock was behind that block or the last signed checkpoint; null for a v1 leaf',
  },
} as const;

/** An evidence record as listed. */
export const evidenceSummarySchema = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(evidenceProperties),
  properties: evidenceProperties,
} as const;

/** One evidence record with its anchoring per chain. */
export const evidenceSchema = {
  $id: 'Evidence',
  type: 'object',
  additionalProperties: false,
  required: [...Object.keys(evidenceProperties), 'anchors', 'bracket'],
  properties: {
    ...evidenceProperties,
    anchors: { type: 'array', items: anchorSchema },
    bracket: bracketSchema,
  },
} as const;

/** JSON forms: a digest the client computed, or a JSON payload the server canonicalises and hashes. */
export const evidenceJsonBody = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'occurredAt'],
  description: 'exactly one of `digest` (client-computed SHA-256) or `payload` (any JSON value)',
  properties: {
    digest: digestInput,
    payload: { description: 'any JSON value; hashed in its RFC 8785 canonical form and stored' },
    kind: kindSchema,
    occurredAt: millis,
    payloadMime: {
      ...mimeSchema,
      description: 'MIME type of the content behind `digest` (digest form only)',
    },
    metadata: metadataInput,
  },
} as const;

/** Raw bytes (application/octet-stream): the fields travel in the query string. */
export const evidenceBytesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: kindSchema,
    occurredAt: millis,
    payloadMime: { ...mimeSchema, description: 'MIME type of the bytes (default application/octet-stream)' },
    digest: { ...digestInput, description: 'optional: the SHA-256 the client expects; a mismatch is a 422' },
    metadata: { type: 'string', maxLength: 65_536, description: 'JSON object, as text' },
  },
} as const;

export const postEvidenceSchema = {
  tags: ['evidence'],
  summary: 'Record evidence (digest, JSON payload, or raw bytes)',
  description:
    'application/json: `{digest | payload, kind, occurredAt, payloadMime?, metadata?}`. ' +
    'application/octet-stream: the raw bytes, with `kind`, `occurredAt`, `payloadMime?`, `digest?`, ' +
    '`metadata?` in the query string. 201 when recorded, 200 when the same submission was already ' +
    'recorded, 409 when the digest is recorded with different fields.',
  querystring: evidenceBytesQuery,
  body: {
    content: {
      'application/json': { schema: evidenceJsonBody },
      // Not validated here (it is a stream): hashed, counted and limited while stored.
      'application/octet-stream': { schema: { description: 'the raw bytes' } },
    },
  },
  response: { 200: { $ref: 'Evidence#' }, 201: { $ref: 'Evidence#' }, ...errorResponses },
} as const;

const listEvidenceQuery = pageQuery({
  sort: { type: 'string', enum: ['receivedAt', 'occurredAt'], default: 'receivedAt' },
  kind: kindSchema,
  status: { type: 'string', enum: EVIDENCE_STATUSES },
  receivedFrom: { ...millis, description: 'receivedAt ≥ this (ms)' },
  receivedTo: { ...millis, description: 'receivedAt < this (ms)' },
  occurredFrom: { ...millis, description: 'occurredAt ≥ this (ms)' },
  occurredTo: { ...millis, description: 'occurredAt < this (ms)' },
});

/** The JSON body of POST /v1/evidence, as its schema admits it (derived: the two cannot drift). */
export type EvidenceJsonBody = FromSchema<typeof evidenceJsonBody>;

/** The query string of POST /v1/evidence (the raw-bytes form's fields). */
export type EvidenceBytesQuery = FromSchema<typeof evidenceBytesQuery>;

export const listEvidenceSchema = {
  tags: ['evidence'],
  summary: 'List evidence (cursor-paginated)',
  querystring: listEvidenceQuery,
  response: { 200: pageSchema(evidenceSummarySchema), ...errorResponses },
} as const;

export const getEvidenceSchema = {
  tags: ['evidence'],
  summary: 'One evidence record, its log position and anchoring per chain',
  params: idParams,
  querystring: noQuery,
  response: { 200: { $ref: 'Evidence#' }, ...errorResponses },
} as const;

export const getContentSchema = {
  tags: ['evidence'],
  summary: 'The stored content of an evidence record',
  params: idParams,
  querystring: noQuery,
  response: {
    200: { description: 'the bytes, with the recorded content type', type: 'string', format: 'binary' },
    ...errorResponses,
  },
} as const;
