import type {
  CountermeasureRow,
  EvidenceRow,
  JammingOperationEnd,
  JammingOperationRow,
  NewCountermeasure,
  NewEvidence,
  NewJammingOperation,
  NewSignalDisruption,
  SignalDisruptionRow,
} from '@fieldproof/db';

/**
 * One write, as plain data: it crosses to the SQLite writer thread by structured clone. Every kind
 * writes an evidence row (and its sequence_queue row); the record kinds also write their own table.
 */
export type WriteRequest =
  | { readonly kind: 'evidence'; readonly evidence: NewEvidence }
  | { readonly kind: 'countermeasure'; readonly evidence: NewEvidence; readonly row: NewCountermeasure }
  | { readonly kind: 'signal-disruption'; readonly evidence: NewEvidence; readonly row: NewSignalDisruption }
  | { readonly kind: 'jamming-operation'; readonly evidence: NewEvidence; readonly row: NewJammingOperation }
  | {
      readonly kind: 'jamming-operation-end';
      readonly evidence: NewEvidence;
      readonly end: JammingOperationEnd;
    };

/** Why a write was not applied: a constraint class (from its code), `not_running`, or `other`. */
export type WriteViolation =
  'unique' | 'primary_key' | 'foreign_key' | 'check' | 'not_null' | 'append_only' | 'not_running' | 'other';

/**
 * The outcome of one write, as facts for the route to decide the answer from: applied (for an end, with
 * the updated row), or not applied because of `violation`, with the row that the violation points at —
 * the evidence holding the digest, the record holding the operationId, the jamming operation being ended.
 */
export type WriteResult =
  | { readonly ok: true; readonly row?: JammingOperationRow | undefined }
  | {
      readonly ok: false;
      readonly violation: WriteViolation;
      readonly existing:
        EvidenceRow | CountermeasureRow | SignalDisruptionRow | JammingOperationRow | undefined;
      /** For `other`: the error's message, for the log only. */
      readonly message?: string;
    };

/** A write that failed in a way no route expects: a 500 for the client, the details for the log. */
export function unexpectedWriteFailure(result: WriteResult): Error {
  if (result.ok) return new Error('write succeeded');
  return new Error(
    `write not applied: ${result.violation}${result.message === undefined ? '' : `: ${result.message}`}`,
  );
}
