import { isJsonObject } from '../json/canonical-json.js';
import { EVM_ADDRESS } from '../hex.js';
import { LEAF_FORMAT_V2 } from '../leaf/encode-leaf-data.js';
import { evmHash, fail, hashHex, integer, nonEmptyString, object, preview } from './format-fields.js';
import { RECEIPT_FORMAT, type Receipt, type ReceiptAnchor } from './receipt.js';

/** Upper bounds that keep a hostile receipt from costing unbounded work. */
const MAX_PROOF_LENGTH = 64; // tree sizes < 2^53 need at most 53 hashes
const MAX_NOTE_LENGTH = 1 << 20;
const MAX_ANCHORS = 64;
/** The evidence fields of a `fieldproof-leaf/v2` record (docs/FORMATS.md §1.2). */
const V2_EVIDENCE_FIELDS = ['leafFormat', 'notBefore', 'clockSuspect'];

/**
 * Checks that `value` is a well-formed `fieldproof-receipt/v1` document and returns it typed. Throws
 * `ReceiptFormatError` naming the first offending path, e.g. `receipt.inclusion.proof[2]`. Unknown
 * fields are refused: a verifier must not appear to vouch for data it did not check. Well-formed says
 * nothing about validity — that is `verifyReceipt`'s job.
 */
export function validateReceipt(value: unknown): Receipt {
  const r = object(value, 'receipt', [
    'format',
    'evidence',
    'leaf',
    'inclusion',
    'checkpoint',
    'device',
    'anchors',
  ]);
  if (r.format !== RECEIPT_FORMAT) {
    fail('receipt.format', `expected "${RECEIPT_FORMAT}", got ${preview(r.format)}`);
  }

  validateEvidence(r.evidence);

  const leaf = object(r.leaf, 'receipt.leaf', ['leafIndex', 'leafHash']);
  integer(leaf.leafIndex, 'receipt.leaf.leafIndex');
  hashHex(leaf.leafHash, 'receipt.leaf.leafHash');

  const inclusion = object(r.inclusion, 'receipt.inclusion', ['treeSize', 'proof']);
  integer(inclusion.treeSize, 'receipt.inclusion.treeSize');
  if (!Array.isArray(inclusion.proof)) fail('receipt.inclusion.proof', 'expected an array of hashes');
  if (inclusion.proof.length > MAX_PROOF_LENGTH) {
    fail('receipt.inclusion.proof', `more than ${MAX_PROOF_LENGTH} hashes`);
  }
  inclusion.proof.forEach((hash: unknown, i) => hashHex(hash, `receipt.inclusion.proof[${i}]`));

  const checkpoint = object(r.checkpoint, 'receipt.checkpoint', ['note', 'origin', 'treeSize', 'root']);
  nonEmptyString(checkpoint.note, 'receipt.checkpoint.note');
  if (checkpoint.note.length > MAX_NOTE_LENGTH) fail('receipt.checkpoint.note', 'longer than 1 MiB');
  nonEmptyString(checkpoint.origin, 'receipt.checkpoint.origin');
  integer(checkpoint.treeSize, 'receipt.checkpoint.treeSize');
  hashHex(checkpoint.root, 'receipt.checkpoint.root');

  const device = object(r.device, 'receipt.device', ['publicKey']);
  nonEmptyString(device.publicKey, 'receipt.device.publicKey');

  if (!Array.isArray(r.anchors)) fail('receipt.anchors', 'expected an array');
  if (r.anchors.length > MAX_ANCHORS) fail('receipt.anchors', `more than ${MAX_ANCHORS} anchors`);
  r.anchors.forEach((anchor: unknown, i) => validateAnchor(anchor, `receipt.anchors[${i}]`));

  return value as Receipt;
}

/** The `evidence` object of a receipt (v1 and v2 alike; a v2 `fleet-leaf` step's at `path`). */
export function validateEvidence(value: unknown, path = 'receipt.evidence'): void {
  const e = object(
    value,
    path,
    ['id', 'digest', 'kind', 'occurredAt', 'receivedAt', 'payloadMime', 'metadata'],
    V2_EVIDENCE_FIELDS,
  );
  nonEmptyString(e.id, `${path}.id`);
  hashHex(e.digest, `${path}.digest`);
  nonEmptyString(e.kind, `${path}.kind`);
  integer(e.occurredAt, `${path}.occurredAt`);
  integer(e.receivedAt, `${path}.receivedAt`);
  if (e.payloadMime !== null) nonEmptyString(e.payloadMime, `${path}.payloadMime`, 'a string or null');
  if (e.metadata !== null && !isJsonObject(e.metadata))
    fail(`${path}.metadata`, 'expected an object or null');
  // The v2 leaf fields come all together, tagged; their values are checked by the leaf encoder.
  const v2 = V2_EVIDENCE_FIELDS.filter((key) => key in e);
  if (v2.length > 0) {
    if (v2.length !== V2_EVIDENCE_FIELDS.length) {
      fail(path, `${V2_EVIDENCE_FIELDS.join(', ')} must be all present or all absent`);
    }
    if (e.leafFormat !== LEAF_FORMAT_V2) {
      fail(`${path}.leafFormat`, `expected "${LEAF_FORMAT_V2}", got ${preview(e.leafFormat)}`);
    }
    if (e.notBefore !== null && !isJsonObject(e.notBefore))
      fail(`${path}.notBefore`, 'expected an object or null');
    if (typeof e.clockSuspect !== 'boolean') fail(`${path}.clockSuspect`, 'expected true or false');
  }
}

/** `JSON.parse` then `validateReceipt`; a JSON syntax error is a `ReceiptFormatError` too. */
export function parseReceipt(json: string): Receipt {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    fail('receipt', `not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return validateReceipt(value);
}

function validateAnchor(value: unknown, path: string): asserts value is ReceiptAnchor {
  const a = object(
    value,
    path,
    ['chain', 'chainId', 'txHash', 'blockNumber', 'blockHash', 'blockTimestamp', 'state'],
    ['from', 'to'],
  );
  nonEmptyString(a.chain, `${path}.chain`);
  integer(a.chainId, `${path}.chainId`);
  evmHash(a.txHash, `${path}.txHash`);
  const blockFields = [a.blockNumber, a.blockHash, a.blockTimestamp];
  if (blockFields.some((f) => f === null)) {
    if (!blockFields.every((f) => f === null)) {
      fail(path, 'blockNumber, blockHash and blockTimestamp must be all set or all null');
    }
  } else {
    integer(a.blockNumber, `${path}.blockNumber`);
    evmHash(a.blockHash, `${path}.blockHash`);
    integer(a.blockTimestamp, `${path}.blockTimestamp`);
  }
  if (typeof a.state !== 'string' || !/^[a-z][a-z_-]*$/.test(a.state)) {
    fail(`${path}.state`, `expected a lowercase state word, got ${preview(a.state)}`);
  }
  for (const key of ['from', 'to'] as const) {
    if (key in a && (typeof a[key] !== 'string' || !EVM_ADDRESS.test(a[key]))) {
      fail(`${path}.${key}`, `expected an EVM address (0x + 40 hex digits), got ${preview(a[key])}`);
    }
  }
}
