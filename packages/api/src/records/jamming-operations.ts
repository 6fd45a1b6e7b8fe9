import {
  findJammingOperation,
  findJammingOperationByOperationId,
  listJammingOperations,
} from '@fieldproof/db';
import type { JammingOperationRow } from '@fieldproof/db';
import { errors } from '../errors/catalogue.js';
import { hertz, idSchema, millis, nullable, operationIdSchema, text, viewObject } from '../http/schemas.js';
import type { FromSchema } from 'json-schema-to-ts';
import type { RecordType } from './record-type.js';

/** The POST body, as its JSON schema below admits it (derived: the two cannot drift). */
export type JammingOperationBody = FromSchema<typeof bodySchema>;

/** The record as the api returns it, derived from its response schema below. */
export type JammingOperationView = FromSchema<typeof viewSchema>;

const bodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['operationId', 'frequencyLowHz', 'frequencyHighHz', 'authorizedBy', 'startedAt'],
  properties: {
    operationId: operationIdSchema,
    relatedEvidenceId: { ...idSchema, description: 'evidence this operation relates to (must exist)' },
    frequencyLowHz: hertz,
    frequencyHighHz: hertz,
    powerDbm: { type: 'number', minimum: -200, maximum: 200 },
    target: text(256),
    authorizedBy: text(256),
    startedAt: millis,
  },
} as const;

/** PATCH body: ending an operation. */
export const endBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['endedAt'],
  properties: {
    endedAt: { ...millis, description: 'when the operation ended (ms); not before startedAt' },
    successMetric: { type: 'number', minimum: 0, maximum: 1, description: '0..1' },
  },
} as const;

const viewSchema = viewObject({
  id: idSchema,
  evidenceId: idSchema,
  operationId: { type: 'string' },
  relatedEvidenceId: nullable('string'),
  frequencyLowHz: { type: 'integer' },
  frequencyHighHz: { type: 'integer' },
  powerDbm: nullable('number'),
  target: nullable('string'),
  authorizedBy: { type: 'string' },
  startedAt: { type: 'integer' },
  endedAt: nullable('integer'),
  successMetric: nullable('number'),
  endEvidenceId: nullable('string'),
  createdAt: { type: 'integer' },
  updatedAt: { type: 'integer' },
});

const num = (v: number | null) => (v === null ? null : Number(v));

/** Jamming operations: `/v1/jamming-operations` (ended with PATCH, see jamming-operation-end.ts). */
export const jammingOperationType: RecordType<
  JammingOperationBody,
  JammingOperationRow,
  JammingOperationView
> = {
  name: 'jamming-operation',
  path: '/v1/jamming-operations',
  tag: 'JammingOperation',
  bodySchema,
  viewSchema,
  timeField: 'startedAt',
  listQueryProperties: {
    state: { type: 'string', enum: ['active', 'ended'], description: 'active: not ended yet' },
  },
  validate(b) {
    if (b.frequencyHighHz < b.frequencyLowHz) {
      throw new errors.InvalidRange('frequencyHighHz is below frequencyLowHz');
    }
  },
  occurredAt: (b) => b.startedAt,
  toRow: (b, { id, evidenceId, createdAt }) => ({
    id,
    operation_id: b.operationId,
    evidence_id: evidenceId,
    end_evidence_id: null,
    related_evidence_id: b.relatedEvidenceId ?? null,
    frequency_low_hz: b.frequencyLowHz,
    frequency_high_hz: b.frequencyHighHz,
    power_dbm: b.powerDbm ?? null,
    target: b.target ?? null,
    authorized_by: b.authorizedBy,
    started_at: b.startedAt,
    ended_at: null,
    success_metric: null,
    created_at: createdAt,
    updated_at: createdAt,
  }),
  view: (r) => ({
    id: r.id,
    evidenceId: r.evidence_id,
    operationId: r.operation_id,
    relatedEvidenceId: r.related_evidence_id,
    frequencyLowHz: Number(r.frequency_low_hz),
    frequencyHighHz: Number(r.frequency_high_hz),
    powerDbm: num(r.power_dbm),
    target: r.target,
    authorizedBy: r.authorized_by,
    startedAt: Number(r.started_at),
    endedAt: num(r.ended_at),
    successMetric: num(r.success_metric),
    endEvidenceId: r.end_evidence_id,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  }),
  request: (evidence, row) => ({ kind: 'jamming-operation', evidence, row }),
  find: findJammingOperation,
  findByOperationId: findJammingOperationByOperationId,
  list: listJammingOperations,
};
