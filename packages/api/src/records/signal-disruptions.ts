import {
  findSignalDisruption,
  findSignalDisruptionByOperationId,
  listSignalDisruptions,
} from '@fieldproof/db';
import type { SignalDisruptionRow } from '@fieldproof/db';
import { errors } from '../errors/catalogue.js';
import { hertz, idSchema, millis, nullable, operationIdSchema, text, viewObject } from '../http/schemas.js';
import type { FromSchema } from 'json-schema-to-ts';
import type { RecordType } from './record-type.js';

/** The POST body, as its JSON schema below admits it (derived: the two cannot drift). */
export type SignalDisruptionBody = FromSchema<typeof bodySchema>;

/** The record as the api returns it, derived from its response schema below. */
export type SignalDisruptionView = FromSchema<typeof viewSchema>;

const bodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['occurredAt', 'frequencyLowHz', 'frequencyHighHz', 'durationMs', 'cause'],
  properties: {
    operationId: { ...operationIdSchema, description: 'optional; when given, unique and used for replays' },
    relatedEvidenceId: { ...idSchema, description: 'evidence this audit relates to (must exist)' },
    occurredAt: { ...millis, description: 'when the disruption began, by the client (ms)' },
    frequencyLowHz: hertz,
    frequencyHighHz: hertz,
    durationMs: { type: 'integer', minimum: 0, maximum: 253_402_300_799_999 },
    affectedSystems: { type: 'array', maxItems: 64, items: text(128) },
    cause: text(256),
    notes: text(4096),
  },
} as const;

const viewSchema = viewObject({
  id: idSchema,
  evidenceId: idSchema,
  operationId: nullable('string'),
  relatedEvidenceId: nullable('string'),
  occurredAt: { type: 'integer' },
  frequencyLowHz: { type: 'integer' },
  frequencyHighHz: { type: 'integer' },
  durationMs: { type: 'integer' },
  affectedSystems: { type: ['array', 'null'], items: { type: 'string' } },
  cause: { type: 'string' },
  notes: nullable('string'),
  createdAt: { type: 'integer' },
});

/** Signal-disruption audits: `/v1/signal-disruptions`. */
export const signalDisruptionType: RecordType<
  SignalDisruptionBody,
  SignalDisruptionRow,
  SignalDisruptionView
> = {
  name: 'signal-disruption',
  path: '/v1/signal-disruptions',
  tag: 'SignalDisruption',
  bodySchema,
  viewSchema,
  timeField: 'occurredAt',
  validate(b) {
    if (b.frequencyHighHz < b.frequencyLowHz) {
      throw new errors.InvalidRange('frequencyHighHz is below frequencyLowHz');
    }
  },
  occurredAt: (b) => b.occurredAt,
  toRow: (b, { id, evidenceId, createdAt }) => ({
    id,
    operation_id: b.operationId ?? null,
    evidence_id: evidenceId,
    related_evidence_id: b.relatedEvidenceId ?? null,
    occurred_at: b.occurredAt,
    frequency_low_hz: b.frequencyLowHz,
    frequency_high_hz: b.frequencyHighHz,
    duration_ms: b.durationMs,
    affected_systems: b.affectedSystems === undefined ? null : JSON.stringify(b.affectedSystems),
    cause: b.cause,
    notes: b.notes ?? null,
    created_at: createdAt,
  }),
  view: (r) => ({
    id: r.id,
    evidenceId: r.evidence_id,
    operationId: r.operation_id,
    relatedEvidenceId: r.related_evidence_id,
    occurredAt: Number(r.occurred_at),
    frequencyLowHz: Number(r.frequency_low_hz),
    frequencyHighHz: Number(r.frequency_high_hz),
    durationMs: Number(r.duration_ms),
    affectedSystems: r.affected_systems === null ? null : (JSON.parse(r.affected_systems) as string[]),
    cause: r.cause,
    notes: r.notes,
    createdAt: Number(r.created_at),
  }),
  request: (evidence, row) => ({ kind: 'signal-disruption', evidence, row }),
  find: findSignalDisruption,
  findByOperationId: findSignalDisruptionByOperationId,
  list: listSignalDisruptions,
};
