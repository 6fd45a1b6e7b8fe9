import { isJsonObject } from '../json/canonical-json.js';
import { fail, hashHex, integer, object } from '../receipt/format-fields.js';

/** Tree sizes 1 … 2^53 − 1 need at most 2·53 hashes; a longer proof is refused before any work. */
const MAX_PROOF_LENGTH = 128;

/**
 * A consistency proof as `GET /v1/log/consistency?from=M&to=N` answers it (docs/API.md): the RFC 9162
 * §2.1.4 proof that the tree of size `to` extends the tree of size `from`, hashes as lowercase hex.
 */
export interface ConsistencyProof {
  readonly from: number;
  readonly to: number;
  readonly proof: readonly string[];
}

/**
 * Checks that `value` is exactly `{from, to, proof}` — sizes as non-negative integers, `from ≤ to`,
 * hashes as 64 lowercase hex digits — and returns it typed. Throws `ReceiptFormatError` naming the first
 * offending path (`proof.from`, `proof.proof[3]`, …). Unknown fields are refused, and nothing is coerced:
 * `"from":"2661"` is not a size, because the verifier must not vouch for what it did not read.
 */
export function validateConsistencyProof(value: unknown): ConsistencyProof {
  if (!isJsonObject(value)) fail('proof', 'expected an object {"from","to","proof"}');
  const p = object(value, 'proof', ['from', 'to', 'proof']);
  integer(p.from, 'proof.from');
  integer(p.to, 'proof.to');
  if (p.from > p.to) fail('proof.from', `is larger than proof.to (${p.from} > ${p.to})`);
  if (!Array.isArray(p.proof)) fail('proof.proof', 'expected an array of hashes');
  if (p.proof.length > MAX_PROOF_LENGTH) fail('proof.proof', `more than ${MAX_PROOF_LENGTH} hashes`);
  p.proof.forEach((hash: unknown, i) => hashHex(hash, `proof.proof[${i}]`));
  return value as unknown as ConsistencyProof;
}
