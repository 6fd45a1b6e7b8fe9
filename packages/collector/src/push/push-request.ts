import type { AnchorProof, EvidenceRecord } from '@fieldproof/receipt';
import type { FromSchema } from 'json-schema-to-ts';

/** Most anchors in one push (the unit sends 32 at a time). */
export const PUSH_MAX_ANCHORS = 64;

/**
 * The types below are derived from the JSON schemas that validate the bodies (json-schema-to-ts), so a
 * field added to one cannot be missing from the other. Two fields the schema leaves open are typed as what
 * checks them: a leaf's `record` is an EvidenceRecord (the leaf encoder refuses any other shape and its
 * `metadata` is any JSON object) and an anchor's `proof` an AnchorProof (verifyAnchorProof checks it field
 * by field, FP_BAD_ANCHOR_PROOF naming the failing check).
 */
type PushBody = FromSchema<{
  type: 'object';
  additionalProperties: false;
  required: ['checkpoint', 'leaves'];
  properties: ReturnType<typeof pushRequestProperties>;
}>;
type SchemaLeaf = PushBody['leaves'][number];
type SchemaAnchor = NonNullable<PushBody['anchors']>[number];

/** One mirrored leaf as a unit pushes it: its index, its RFC 6962 leaf hash and the record it encodes. */
export type PushedLeaf = Omit<SchemaLeaf, 'record'> & { readonly record: EvidenceRecord };

/**
 * One anchor of the unit's log as it pushes it: a final anchor transaction with the anchor proof the unit
 * stored (docs/FORMATS.md §8), or — `state: 'lost'` — the news that the chain no longer has one it pushed
 * as final (a reorg or reset; the proof is the one it had).
 */
export type PushedAnchor = Omit<SchemaAnchor, 'proof'> & { readonly proof: AnchorProof };

/** `POST /v1/devices/:origin/push` body (docs/COLLECTOR.md). */
export type PushRequest = Omit<PushBody, 'leaves' | 'anchors'> & {
  readonly leaves: readonly PushedLeaf[];
  readonly anchors?: readonly PushedAnchor[];
};

/** What the collector answers to an accepted push (also to an idempotent re-send). */
export type PushAccepted = FromSchema<typeof pushAcceptedSchema>;

/** Response schema of an accepted push. */
export const pushAcceptedSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['origin', 'treeSize', 'rootHash', 'cosignature', 'cosignedAt', 'appended', 'anchorsStored'],
  properties: {
    origin: { type: 'string' },
    treeSize: { type: 'integer' },
    rootHash: { type: 'string' },
    // The collector's cosignature/v1 line over the checkpoint of `treeSize`.
    cosignature: { type: 'string' },
    // POSIX seconds in the cosignature.
    cosignedAt: { type: 'integer' },
    // Leaves this push added (0 for a re-send).
    appended: { type: 'integer' },
    // Anchors this push stored or changed (0 when all were held already).
    anchorsStored: { type: 'integer' },
  },
} as const;

const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const millis = { type: 'integer', minimum: 0, maximum: 253_402_300_799_999 } as const;

/** 1: checkpoint, consistency and leaves; 2 adds `anchors`. */
export type PushProtocol = 1 | 2;

/**
 * JSON schema of {@link PushRequest}; closed objects, nothing coerced. Protocol 1's schema is the same
 * without `anchors`, so that a body carrying them is refused as an older collector refuses it.
 */
export function pushRequestSchema(maxLeaves: number, protocol: PushProtocol = 2) {
  const { anchors, ...protocol1 } = pushRequestProperties(maxLeaves);
  return {
    type: 'object',
    additionalProperties: false,
    required: ['checkpoint', 'leaves'],
    properties: protocol === 1 ? protocol1 : { ...protocol1, anchors },
  } as const;
}

function pushRequestProperties(maxLeaves: number) {
  return {
    // The unit's newest signed checkpoint (C2SP signed note), signed by its enrolled key.
    checkpoint: { type: 'string', minLength: 1, maxLength: 16_384 },
    // Consistency proof from `fromTreeSize` (≤ what the collector acknowledged) to the checkpoint.
    consistency: {
      type: 'object',
      additionalProperties: false,
      required: ['fromTreeSize', 'proof'],
      properties: {
        fromTreeSize: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        proof: {
          type: 'array',
          maxItems: 128,
          items: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' },
        },
      },
    },
    // Anchors of checkpoints the collector holds (after this push). Added in push protocol 2: an older
    // collector's closed schema refuses a body with this field (400 FP_VALIDATION), and the unit then
    // stops sending anchors to it — never leaves.
    anchors: {
      type: 'array',
      maxItems: PUSH_MAX_ANCHORS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['chain', 'treeSize', 'checkpoint', 'txHash', 'state', 'proof'],
        properties: {
          // The unit's chain name (informative, shown in receipts).
          chain: { type: 'string', minLength: 1, maxLength: 64 },
          // The unit's signed checkpoint of `treeSize` (the one anchored). The collector may not hold that
          // size as a pushed checkpoint (a push ends at the largest checkpoint in a batch): it then checks
          // the root against its mirrored tree and cosigns it as a prefix of what it holds.
          checkpoint: { type: 'string', minLength: 1, maxLength: 16_384 },
          // The checkpoint the transaction's FPA1 payload anchors.
          treeSize: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          // `0x` + 64 lowercase hex: keccak256 of `proof.rawTx`.
          txHash: { type: 'string', pattern: '^0x[0-9a-f]{64}$' },
          state: { type: 'string', enum: ['final', 'lost'] },
          // Checked field by field by verifyAnchorProof (FP_BAD_ANCHOR_PROOF names the failing check).
          proof: { type: 'object' },
        },
      },
    },
    // Leaves from (at most) the collector's tree size up to the checkpoint's size, in index order.
    leaves: {
      type: 'array',
      maxItems: maxLeaves,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['leafIndex', 'leafHash', 'record', 'content'],
        properties: {
          leafIndex: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          // hex SHA-256(0x00 ‖ leaf data of `record`, fieldproof-leaf/v1 or v2).
          leafHash: hex64,
          // The unit holds the raw bytes (raw-bytes evidence): they must have been PUT before this push.
          content: { type: 'boolean' },
          // The record as `evidenceRecordOf` gives it: v1's seven fields, and v2's three more for a v2 leaf.
          record: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'digest', 'kind', 'occurredAt', 'receivedAt', 'payloadMime', 'metadata'],
            properties: {
              id: { type: 'string', minLength: 1, maxLength: 128 },
              digest: hex64,
              kind: { type: 'string', minLength: 1, maxLength: 64 },
              occurredAt: millis,
              receivedAt: millis,
              payloadMime: { type: ['string', 'null'], maxLength: 255 },
              metadata: { type: ['object', 'null'] },
              // fieldproof-leaf/v2 only (all three; the leaf encoder refuses half of them)
              leafFormat: { type: 'string', enum: ['fieldproof-leaf/v2'] },
              notBefore: {
                type: ['object', 'null'],
                additionalProperties: false,
                required: ['chainId', 'number', 'hash', 'timestamp'],
                properties: {
                  chainId: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
                  number: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
                  hash: { type: 'string', pattern: '^0x[0-9a-f]{64}$' },
                  timestamp: millis,
                },
              },
              clockSuspect: { type: 'boolean' },
            },
          },
        },
      },
    },
  } as const;
}
