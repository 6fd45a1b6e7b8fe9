import { isJsonObject } from '../json/canonical-json.js';
import { EVM_ADDRESS } from '../hex.js';
import {
  evmHash,
  fail,
  hashHex,
  integer,
  nonEmptyString,
  object,
  preview,
} from '../receipt/format-fields.js';
import { validateEvidence } from '../receipt/validate-receipt.js';
import { RECEIPT_FORMAT_V2, type ReceiptV2 } from './receipt-v2.js';

/** Bounds that keep a hostile receipt from costing unbounded work. */
const MAX_STEPS = 64;
const MAX_ANCHORS = 64;
const MAX_PROOF_LENGTH = 64;
const MAX_TEXT = 1 << 20;
const HEX_0X = /^0x(?:[0-9a-f]{2})*$/;

/**
 * Checks that `value` is a well-formed `fieldproof-receipt/v2` (docs/FORMATS.md §9) and returns it typed.
 * Known step types are checked field by field (unknown fields refused); a step of a type this version
 * does not know is kept as it is — `{ "type": "<word>", … }` — and fails verification as its own link,
 * so a newer receipt is reported, not refused whole. Throws `ReceiptFormatError` naming the path.
 */
export function validateReceiptV2(value: unknown): ReceiptV2 {
  const r = object(value, 'receipt', ['format', 'evidence', 'steps', 'anchors']);
  if (r.format !== RECEIPT_FORMAT_V2) {
    fail('receipt.format', `expected "${RECEIPT_FORMAT_V2}", got ${preview(r.format)}`);
  }
  validateEvidence(r.evidence);
  stepList(r.steps, 'receipt.steps', 3).forEach((s, i) => validateStep(s, `receipt.steps[${i}]`));
  if (!Array.isArray(r.anchors)) fail('receipt.anchors', 'expected an array');
  if (r.anchors.length > MAX_ANCHORS) fail('receipt.anchors', `more than ${MAX_ANCHORS} anchors`);
  r.anchors.forEach((branch: unknown, i) => {
    const path = `receipt.anchors[${i}]`;
    const b = object(branch, path, ['chain', 'state', 'steps'], ['via']);
    nonEmptyString(b.chain, `${path}.chain`);
    if ('via' in b) nonEmptyString(b.via, `${path}.via`);
    if (typeof b.state !== 'string' || !/^[a-z][a-z_-]*$/.test(b.state)) {
      fail(`${path}.state`, `expected a lowercase state word, got ${preview(b.state)}`);
    }
    stepList(b.steps, `${path}.steps`, 1).forEach((s, j) => validateStep(s, `${path}.steps[${j}]`));
  });
  return value as ReceiptV2;
}

function stepList(value: unknown, path: string, min: number): unknown[] {
  if (!Array.isArray(value)) fail(path, 'expected an array of steps');
  if (value.length < min) fail(path, `expected at least ${min} step(s)`);
  if (value.length > MAX_STEPS) fail(path, `more than ${MAX_STEPS} steps`);
  return value;
}

function validateStep(value: unknown, path: string): void {
  if (!isJsonObject(value)) fail(path, `expected a step object, got ${preview(value)}`);
  const type = value.type;
  if (typeof type !== 'string' || !/^[a-z][a-z0-9-]*$/.test(type)) {
    fail(`${path}.type`, `expected a step type word, got ${preview(type)}`);
  }
  switch (type) {
    case 'leaf': {
      const s = object(value, path, ['type', 'format', 'leafHash']);
      nonEmptyString(s.format, `${path}.format`);
      hashHex(s.leafHash, `${path}.leafHash`);
      return;
    }
    case 'inclusion':
    case 'fleet-inclusion': {
      const s = object(value, path, ['type', 'leafIndex', 'treeSize', 'proof']);
      integer(s.leafIndex, `${path}.leafIndex`);
      integer(s.treeSize, `${path}.treeSize`);
      hashList(s.proof, `${path}.proof`);
      return;
    }
    case 'consistency': {
      const s = object(value, path, ['type', 'note', 'proof']);
      text(s.note, `${path}.note`);
      hashList(s.proof, `${path}.proof`);
      return;
    }
    case 'fleet-leaf': {
      const s = object(value, path, ['type', 'evidence', 'leafHash']);
      validateEvidence(s.evidence, `${path}.evidence`);
      hashHex(s.leafHash, `${path}.leafHash`);
      return;
    }
    case 'checkpoint':
    case 'fleet-checkpoint': {
      const s = object(value, path, ['type', 'note', 'publicKey']);
      text(s.note, `${path}.note`);
      nonEmptyString(s.publicKey, `${path}.publicKey`);
      return;
    }
    case 'cosignature': {
      const s = object(value, path, ['type', 'witnessKey', 'line']);
      nonEmptyString(s.witnessKey, `${path}.witnessKey`);
      text(s.line, `${path}.line`);
      return;
    }
    case 'anchor-tx': {
      const s = object(value, path, ['type', 'chainId', 'txHash'], ['rawTx', 'from']);
      integer(s.chainId, `${path}.chainId`);
      evmHash(s.txHash, `${path}.txHash`);
      if ('rawTx' in s) hex0x(s.rawTx, `${path}.rawTx`);
      if ('from' in s && (typeof s.from !== 'string' || !EVM_ADDRESS.test(s.from))) {
        fail(`${path}.from`, `expected an EVM address (0x + 40 hex digits), got ${preview(s.from)}`);
      }
      return;
    }
    case 'tx-trie': {
      const s = object(value, path, ['type', 'txIndex', 'proof']);
      integer(s.txIndex, `${path}.txIndex`);
      if (!Array.isArray(s.proof) || s.proof.length === 0 || s.proof.length > MAX_PROOF_LENGTH) {
        fail(`${path}.proof`, `expected an array of 1 … ${MAX_PROOF_LENGTH} trie nodes`);
      }
      s.proof.forEach((n: unknown, i) => hex0x(n, `${path}.proof[${i}]`));
      return;
    }
    case 'header': {
      const s = object(value, path, ['type', 'rawHeader']);
      hex0x(s.rawHeader, `${path}.rawHeader`);
      return;
    }
    case 'block': {
      const s = object(value, path, ['type', 'chainId', 'number', 'hash', 'timestamp']);
      integer(s.chainId, `${path}.chainId`);
      integer(s.number, `${path}.number`);
      evmHash(s.hash, `${path}.hash`);
      integer(s.timestamp, `${path}.timestamp`);
      return;
    }
    default:
      return; // a later step type: its own link fails at verification (see above)
  }
}

function hashList(value: unknown, path: string): void {
  if (!Array.isArray(value)) fail(path, 'expected an array of hashes');
  if (value.length > MAX_PROOF_LENGTH) fail(path, `more than ${MAX_PROOF_LENGTH} hashes`);
  value.forEach((h: unknown, i) => hashHex(h, `${path}[${i}]`));
}

function text(value: unknown, path: string): asserts value is string {
  nonEmptyString(value, path);
  if (value.length > MAX_TEXT) fail(path, 'longer than 1 MiB');
}

function hex0x(value: unknown, path: string): void {
  if (typeof value !== 'string' || value.length < 4 || value.length > 2 * MAX_TEXT || !HEX_0X.test(value)) {
    fail(path, `expected 0x and an even number of lowercase hex digits, got ${preview(value)}`);
  }
}
