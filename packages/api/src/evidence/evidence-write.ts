import { appendEvidence, findEvidenceByDigest, isUniqueViolation } from '@fieldproof/db';
import type { EvidenceRow, NewEvidence } from '@fieldproof/db';
import { errors } from '../errors/catalogue.js';
import type { WriteOp } from '../write/group-committer.js';

export type EvidenceWriteResult =
  | { readonly created: true; readonly row: NewEvidence }
  | { readonly created: false; readonly existing: EvidenceRow };

/**
 * The write of one evidence record (and its sequence_queue row). A UNIQUE violation means the digest is
 * already recorded — decided from the constraint code, then the existing row is read: with the same
 * fields it is a replay (answered 200 with the existing record), otherwise a 409.
 *
 * "Same fields" are kind, occurredAt, payloadMime and metadata. How the digest reached the server (digest,
 * JSON payload, bytes) is not compared: the digest names the same content either way.
 */
export function evidenceWrite(row: NewEvidence): WriteOp<EvidenceWriteResult> {
  const created: EvidenceWriteResult = { created: true, row };
  return {
    append: { row, result: created },
    async apply(trx) {
      await appendEvidence(trx, [row]);
      return created;
    },
    async recover(trx, err) {
      if (!isUniqueViolation(err)) throw err;
      const existing = await findEvidenceByDigest(trx, row.digest);
      if (existing === undefined) throw err;
      const differing = differingFields(existing, row);
      if (differing.length > 0) {
        throw new errors.EvidenceConflict(
          `evidence ${existing.id} already has this digest with a different ${differing.join(', ')}`,
        );
      }
      return { created: false, existing };
    },
  };
}

function differingFields(existing: EvidenceRow, row: NewEvidence): string[] {
  const differing: string[] = [];
  if (existing.kind !== row.kind) differing.push('kind');
  if (Number(existing.occurred_at) !== row.occurred_at) differing.push('occurredAt');
  if ((existing.payload_mime ?? null) !== (row.payload_mime ?? null)) differing.push('payloadMime');
  if ((existing.metadata ?? null) !== (row.metadata ?? null)) differing.push('metadata');
  return differing;
}
