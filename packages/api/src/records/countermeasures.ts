import { findCountermeasure, findCountermeasureByOperationId, listCountermeasures } from '@fieldproof/db';
import type { CountermeasureRow } from '@fieldproof/db';
import {
  idSchema,
  kindSchema,
  millis,
  nullable,
  operationIdSchema,
  text,
  viewObject,
} from '../http/schemas.js';
import type { FromSchema } from 'json-schema-to-ts';
import type { RecordType } from './record-type.js';

/** The POST body, as its JSON schema below admits it (derived: the two cannot drift). */
export type CountermeasureBody = FromSchema<typeof bodySchema>;

/** The record as the api returns it, derived from its response schema below. */
export type CountermeasureView = FromSchema<typeof viewSchema>;

const bodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['operationId', 'countermeasureType', 'deployedAt'],
  properties: {
    operationId: operationIdSchema,
    relatedEvidenceId: { ...idSchema, description: 'evidence this deployment relates to (must exist)' },
    countermeasureType: kindSchema,
    target: text(256),
    deployedAt: millis,
    latitude: { type: 'number', minimum: -90, maximum: 90 },
    longitude: { type: 'number', minimum: -180, maximum: 180 },
    authorizedBy: text(256),
    notes: text(4096),
  },
} as const;

const viewSchema = viewObject({
  id: idSchema,
  evidenceId: idSchema,
  operationId: { type: 'string' },
  relatedEvidenceId: nullable('string'),
  countermeasureType: { type: 'string' },
  target: nullable('string'),
  deployedAt: { type: 'integer' },
  latitude: nullable('number'),
  longitude: nullable('number'),
  authorizedBy: nullable('string'),
  notes: nullable('string'),
  createdAt: { type: 'integer' },
});

/** Countermeasure deployments: `/v1/countermeasures`. */
export const countermeasureType: RecordType<CountermeasureBody, CountermeasureRow, CountermeasureView> = {
  name: 'countermeasure',
  path: '/v1/countermeasures',
  tag: 'Countermeasure',
  bodySchema,
  viewSchema,
  timeField: 'deployedAt',
  occurredAt: (b) => b.deployedAt,
  toRow: (b, { id, evidenceId, createdAt }) => ({
    id,
    operation_id: b.operationId,
    evidence_id: evidenceId,
    related_evidence_id: b.relatedEvidenceId ?? null,
    countermeasure_type: b.countermeasureType,
    target: b.target ?? null,
    deployed_at: b.deployedAt,
    latitude: b.latitude ?? null,
    longitude: b.longitude ?? null,
    authorized_by: b.authorizedBy ?? null,
    notes: b.notes ?? null,
    created_at: createdAt,
  }),
  view: (r) => ({
    id: r.id,
    evidenceId: r.evidence_id,
    operationId: r.operation_id,
    relatedEvidenceId: r.related_evidence_id,
    countermeasureType: r.countermeasure_type,
    target: r.target,
    deployedAt: Number(r.deployed_at),
    latitude: r.latitude === null ? null : Number(r.latitude),
    longitude: r.longitude === null ? null : Number(r.longitude),
    authorizedBy: r.authorized_by,
    notes: r.notes,
    createdAt: Number(r.created_at),
  }),
  request: (evidence, row) => ({ kind: 'countermeasure', evidence, row }),
  find: findCountermeasure,
  findByOperationId: findCountermeasureByOperationId,
  list: listCountermeasures,
};
