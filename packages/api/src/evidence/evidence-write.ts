import { isUniqueClass } from '@fieldproof/db';
import type { EvidenceRow, NewEvidence } from '@fieldproof/db';
import { errors } from '../errors/catalogue.js';
import { unexpectedWriteFailure } from '../write/write-request.js';
import type { WriteResult } from '../write/write-request.js';

/**
 * What the write of one evidence record means for the client. A UNIQUE violation (by its constraint code)
 * means the digest is already recorded; the existing row decides: the same fields are a replay (200 with
 * the existing record), other fields a 409.
 *
 * "Same fields" are kind, occurredAt, payloadMime and metadata. How the digest reached the server (digest,
 * JSON payload, bytes) is not compared: the digest names the same content either way.
 */
export function evidenceOutcome(
  row: NewEvidence,
  result: WriteResult,
): { readonly created: true } | { readonly created: false; readonly existing: EvidenceRow } {
  if (result.ok) return { created: true };
  const existing = result.existing as EvidenceRow | undefined;
  if (isUniqueClass(result.violation) && existing !== undefined) {
    const differing = differingFields(existing, row);
    if (differing.length > 0) {
      throw new errors.EvidenceConflict(
        `evidence ${existing.id} already has this digest with a different ${differing.join(', ')}`,
      );
    }
    return { created: false, existing };
  }
  throw unexpectedWriteFailure(result);
}

function differingFields(existing: EvidenceRow, row: NewEvidence): string[] {
  const differing: string[] = [];
  if (existing.kind !== row.kind) differing.push('kind');
  if (Number(existing.occurred_at) !== row.occurred_at) differing.push('occurredAt');
  if ((existing.payload_mime ?? null) !== (row.payload_mime ?? null)) differing.push('payloadMime');
  if ((existing.metadata ?? null) !== (row.metadata ?? null)) differing.push('metadata');
  return differing;
}
