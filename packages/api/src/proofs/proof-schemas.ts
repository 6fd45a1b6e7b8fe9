import { ANCHOR_JOB_STATES } from '@fieldproof/db';
import { RECEIPT_SCHEMA } from '@fieldproof/receipt';
import {
  digestOutput,
  errorResponses,
  idParams,
  idSchema,
  limitQuery,
  noQuery,
  nullable,
  pageQuery,
  pageSchema,
} from '../http/schemas.js';

/**
 * Schemas of the proof routes (proof-routes.ts). Receipts follow `fieldproof-receipt/v2` (docs/FORMATS.md
 * §9) or, on request, `/v1` (§6): the response schema is closed, so nothing leaks into a receipt and
 * nothing a verifier needs is dropped.
 */

const evmHash = { type: 'string', pattern: '^0x[0-9a-f]{64}$' } as const;

/** Both receipt formats, as `@fieldproof/receipt` defines them (one source of truth, tested there). */
export const receiptSchema = RECEIPT_SCHEMA;

export const getReceiptSchema = {
  tags: ['proofs'],
  summary: 'The receipt of one evidence record (fieldproof-receipt/v2; ?format=v1 for the older format)',
  description:
    'Inclusion proof to the newest checkpoint covering the record that is anchored final on a chain ' +
    '(else included on one; else the latest signed checkpoint), the signed note, the device key, ' +
    'witness cosignatures of that checkpoint and its anchors — each final anchor with its block header and ' +
    'transactions-trie proof (v2). 404 FP_NOT_SEQUENCED while the keeper has not sequenced the record.',
  params: idParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: { format: { type: 'string', enum: ['v1', 'v2'], default: 'v2' } },
  },
  response: { 200: { $ref: 'Receipt#' }, ...errorResponses },
} as const;

export const getCheckpointSchema = {
  tags: ['proofs'],
  summary: 'The latest signed checkpoint of the device log',
  querystring: noQuery,
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['note', 'origin', 'treeSize', 'root', 'createdAt', 'verifierKey'],
      properties: {
        note: { type: 'string', description: 'C2SP signed note; keep it to check consistency later' },
        origin: { type: 'string' },
        treeSize: { type: 'integer' },
        root: { ...digestOutput, description: 'root hash, hex (the note holds it in base64)' },
        createdAt: { type: 'integer', description: 'when the keeper signed it, Unix ms' },
        verifierKey: { type: 'string', description: 'the device verifier key the note is signed with' },
      },
    },
    ...errorResponses,
  },
} as const;

const treeSizeQuery = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

export const getConsistencySchema = {
  tags: ['proofs'],
  summary: 'Consistency proof between two checkpoints (the log of `to` extends that of `from`)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    required: ['from', 'to'],
    properties: {
      from: { ...treeSizeQuery, description: 'tree size of the older checkpoint' },
      to: { ...treeSizeQuery, description: 'tree size of the newer checkpoint' },
    },
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['from', 'to', 'proof'],
      properties: {
        from: { type: 'integer' },
        to: { type: 'integer' },
        proof: { type: 'array', items: digestOutput, description: 'RFC 9162 §2.1.4 consistency proof' },
      },
    },
    ...errorResponses,
  },
} as const;

const anchorListItem = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'chain',
    'chainId',
    'treeSize',
    'state',
    'attempts',
    'lastError',
    'txHash',
    'txState',
    'blockNumber',
    'blockHash',
    'blockTimestamp',
    'createdAt',
    'updatedAt',
  ],
  properties: {
    id: idSchema,
    chain: { type: 'string' },
    chainId: { type: 'integer', description: '0 for a stub anchor (no chain)' },
    treeSize: { type: 'integer', description: 'tree size of the anchored checkpoint' },
    state: { type: 'string', enum: ANCHOR_JOB_STATES },
    attempts: { type: 'integer' },
    lastError: nullable('string'),
    txHash: nullable('string'),
    txState: { ...nullable('string'), description: 'state of the current transaction, if any' },
    blockNumber: nullable('integer'),
    blockHash: nullable('string'),
    blockTimestamp: { ...nullable('integer'), description: 'Unix ms' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

export const listAnchorsSchema = {
  tags: ['proofs'],
  summary: 'Anchors (outbox jobs and their current transactions) and their states, per chain',
  querystring: pageQuery({
    chain: { type: 'string', minLength: 1, maxLength: 64 },
    state: { type: 'string', enum: ANCHOR_JOB_STATES },
  }),
  response: { 200: pageSchema(anchorListItem), ...errorResponses },
} as const;

const hexBytes = { type: 'string', pattern: '^0x([0-9a-f]{2})*$' } as const;

/** docs/FORMATS.md §8: exactly the seven fields `verifyAnchorProof` takes. */
export const getAnchorProofSchema = {
  tags: ['proofs'],
  summary: 'The anchor proof of a final anchor: its transaction, block header and transactions-trie proof',
  description:
    'docs/FORMATS.md §8: checkable offline (`verifyAnchorProof`) but for whether `blockHash` is canonical. ' +
    'Only for a job that is `final`, once the keeper stored its proof; 404 FP_NOT_FOUND otherwise ' +
    '(not final yet, `lost`, or the proof not built yet — the message says which).',
  params: idParams,
  querystring: noQuery,
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['chainId', 'blockNumber', 'blockHash', 'rawHeader', 'txIndex', 'rawTx', 'txProof'],
      properties: {
        chainId: { type: 'integer', description: 'EIP-155 chain id' },
        blockNumber: { type: 'integer' },
        blockHash: evmHash,
        rawHeader: { ...hexBytes, description: 'the RLP block header; keccak256 of it is blockHash' },
        txIndex: { type: 'integer', description: "the transaction's position in the block" },
        rawTx: { ...hexBytes, description: 'the signed anchor transaction as sent' },
        txProof: {
          type: 'array',
          items: hexBytes,
          description: 'transactions-trie nodes from the root (header field 4) to the leaf holding rawTx',
        },
      },
    },
    ...errorResponses,
  },
} as const;

const deadJob = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'chain', 'chainId', 'treeSize', 'attempts', 'lastError', 'createdAt', 'updatedAt'],
  properties: {
    id: idSchema,
    chain: { type: 'string' },
    chainId: { type: 'integer' },
    treeSize: { type: 'integer' },
    attempts: { type: 'integer' },
    lastError: nullable('string'),
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer', description: 'when it was dead-lettered, Unix ms' },
  },
} as const;

export const getOutboxSchema = {
  tags: ['proofs'],
  summary: 'The anchoring outbox: backlog by state, oldest pending age, dead-lettered jobs',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      deadLimit: { ...limitQuery, description: 'dead-lettered jobs to list (1-500, default 50)' },
    },
  },
  response: {
    200: {
      type: 'object',
      additionalProperties: false,
      required: ['now', 'sequenceBacklog', 'chains', 'dead'],
      properties: {
        now: { type: 'integer', description: 'server time of this answer, Unix ms' },
        sequenceBacklog: { type: 'integer', description: 'evidence waiting for a leaf index' },
        chains: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['chain', 'byState', 'oldestPending'],
            properties: {
              chain: { type: 'string' },
              byState: {
                type: 'object',
                additionalProperties: false,
                required: [...ANCHOR_JOB_STATES],
                properties: Object.fromEntries(ANCHOR_JOB_STATES.map((s) => [s, { type: 'integer' }])),
              },
              oldestPending: {
                type: ['object', 'null'],
                additionalProperties: false,
                required: ['treeSize', 'createdAt', 'ageMs'],
                description: 'among jobs neither final nor dead: the oldest, or null when none waits',
                properties: {
                  treeSize: { type: 'integer', description: 'smallest tree size waiting' },
                  createdAt: { type: 'integer' },
                  ageMs: { type: 'integer' },
                },
              },
            },
          },
        },
        dead: {
          type: 'object',
          additionalProperties: false,
          required: ['total', 'jobs'],
          properties: {
            total: { type: 'integer' },
            jobs: { type: 'array', items: deadJob, description: 'newest first' },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export { ANCHOR_JOB_STATES };
