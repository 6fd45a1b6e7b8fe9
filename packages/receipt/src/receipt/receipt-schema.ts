/**
 * JSON Schema (draft 2020-12) of both receipt formats: one source of truth with the hand validators
 * (`validateReceipt`, `validateReceiptV2`), tested against them; the api serves receipts with it. The
 * validators are stricter in a few places a schema cannot say (bounds on note length, proof length).
 */

import { ANCHOR_STEP_TYPES, TRUNK_STEP_TYPES } from '../v2/receipt-v2.js';

const hash = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const evmHash = { type: 'string', pattern: '^0x[0-9a-f]{64}$' } as const;
const hex0x = { type: 'string', pattern: '^0x([0-9a-f]{2})+$' } as const;
const uint = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const text = { type: 'string', minLength: 1 } as const;
const address = { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' } as const;
const stateWord = { type: 'string', pattern: '^[a-z][a-z_-]*$' } as const;

const evidence = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'digest', 'kind', 'occurredAt', 'receivedAt', 'payloadMime', 'metadata'],
  properties: {
    id: text,
    digest: hash,
    kind: text,
    occurredAt: { ...uint, description: 'the device clock, Unix ms' },
    receivedAt: { ...uint, description: 'the api clock, Unix ms' },
    payloadMime: { anyOf: [text, { type: 'null' }] },
    metadata: { type: ['object', 'null'], additionalProperties: true },
    // fieldproof-leaf/v2 records only, all three together (docs/FORMATS.md §1.2)
    leafFormat: { type: 'string', enum: ['fieldproof-leaf/v2'] },
    notBefore: {
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['chainId', 'number', 'hash', 'timestamp'],
          properties: {
            chainId: uint,
            number: uint,
            hash: { type: 'string', pattern: '^0x[0-9a-f]{64}$' },
            timestamp: { ...uint, description: 'header time, Unix ms' },
          },
        },
        { type: 'null' },
      ],
    },
    clockSuspect: { type: 'boolean' },
  },
  dependencies: {
    leafFormat: ['notBefore', 'clockSuspect'],
    notBefore: ['leafFormat', 'clockSuspect'],
    clockSuspect: ['leafFormat', 'notBefore'],
  },
} as const;

const closed = <P extends Record<string, unknown>>(
  type: string,
  properties: P,
  optional: readonly string[] = [],
) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['type', ...Object.keys(properties).filter((k) => !optional.includes(k))],
    properties: { type: { const: type }, ...properties },
  }) as const;

const KNOWN_STEPS = [...TRUNK_STEP_TYPES, ...ANCHOR_STEP_TYPES];

/** A step of a type this version does not know: kept, and failed at verification as its own link. */
const laterStep = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', not: { enum: KNOWN_STEPS } } },
} as const;

const hashes = { type: 'array', maxItems: 64, items: hash } as const;
const inclusion = { leafIndex: uint, treeSize: uint, proof: hashes } as const;
const signedNote = { note: text, publicKey: text } as const;

const step = {
  anyOf: [
    closed('leaf', { format: text, leafHash: hash }),
    closed('inclusion', inclusion),
    closed('checkpoint', signedNote),
    closed('cosignature', { witnessKey: text, line: text }),
    closed('consistency', { note: text, proof: hashes }),
    closed('fleet-leaf', { evidence, leafHash: hash }),
    closed('fleet-inclusion', inclusion),
    closed('fleet-checkpoint', signedNote),
    closed('anchor-tx', { chainId: uint, txHash: evmHash, rawTx: hex0x, from: address }, ['rawTx', 'from']),
    closed('tx-trie', { txIndex: uint, proof: { type: 'array', minItems: 1, maxItems: 64, items: hex0x } }),
    closed('header', { rawHeader: hex0x }),
    closed('block', { chainId: uint, number: uint, hash: evmHash, timestamp: uint }),
    laterStep,
  ],
} as const;

export const RECEIPT_V2_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'fieldproof-receipt/v2 (docs/FORMATS.md §9): verify offline with `fieldproof verify`',
  required: ['format', 'evidence', 'steps', 'anchors'],
  properties: {
    format: { const: 'fieldproof-receipt/v2' },
    evidence,
    steps: { type: 'array', minItems: 3, maxItems: 64, items: step },
    anchors: {
      type: 'array',
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['chain', 'state', 'steps'],
        properties: {
          chain: text,
          state: stateWord,
          via: { ...text, description: 'the collector a fleet branch goes through; informative' },
          steps: { type: 'array', minItems: 1, maxItems: 64, items: step },
        },
      },
    },
  },
} as const;

export const RECEIPT_V1_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'fieldproof-receipt/v1 (docs/FORMATS.md §6)',
  required: ['format', 'evidence', 'leaf', 'inclusion', 'checkpoint', 'device', 'anchors'],
  properties: {
    format: { const: 'fieldproof-receipt/v1' },
    evidence,
    leaf: {
      type: 'object',
      additionalProperties: false,
      required: ['leafIndex', 'leafHash'],
      properties: { leafIndex: uint, leafHash: hash },
    },
    inclusion: {
      type: 'object',
      additionalProperties: false,
      required: ['treeSize', 'proof'],
      properties: { treeSize: uint, proof: { type: 'array', maxItems: 64, items: hash } },
    },
    checkpoint: {
      type: 'object',
      additionalProperties: false,
      required: ['note', 'origin', 'treeSize', 'root'],
      properties: { note: text, origin: text, treeSize: uint, root: hash },
    },
    device: {
      type: 'object',
      additionalProperties: false,
      required: ['publicKey'],
      properties: { publicKey: text },
    },
    anchors: {
      type: 'array',
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['chain', 'chainId', 'txHash', 'blockNumber', 'blockHash', 'blockTimestamp', 'state'],
        properties: {
          chain: text,
          chainId: uint,
          txHash: evmHash,
          blockNumber: { anyOf: [uint, { type: 'null' }] },
          blockHash: { anyOf: [evmHash, { type: 'null' }] },
          blockTimestamp: { anyOf: [uint, { type: 'null' }] },
          state: stateWord,
          from: address,
          to: address,
        },
      },
    },
  },
} as const;

/** Either format: what `GET /v1/evidence/:id/receipt` answers. */
export const RECEIPT_SCHEMA = {
  $id: 'Receipt',
  description: 'A fieldproof receipt, v2 or v1: verify offline with `fieldproof verify` (docs/RECEIPTS.md)',
  oneOf: [RECEIPT_V2_SCHEMA, RECEIPT_V1_SCHEMA],
} as const;
