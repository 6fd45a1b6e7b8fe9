import { isJsonObject } from '../json/canonical-json.js';
import { ReceiptFormatError } from '../errors.js';
import { EVM_HASH_HEX, HASH_HEX } from '../hex.js';

/**
 * Field checks shared by the strict validators of this package's JSON formats (receipts, consistency
 * proofs). Each throws `ReceiptFormatError` naming the JSON path of the offending value.
 */

export type Fields = Record<string, unknown>;

/** An object with every `required` key and nothing but `required` and `optional` keys. */
export function object(
  value: unknown,
  path: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Fields {
  if (!isJsonObject(value)) fail(path, `expected an object, got ${preview(value)}`);
  for (const key of required) if (!(key in value)) fail(`${path}.${key}`, 'is missing');
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key))
      fail(`${path}.${key}`, 'is not a field of this format');
  }
  return value;
}

export function nonEmptyString(
  value: unknown,
  path: string,
  what = 'a non-empty string',
): asserts value is string {
  if (typeof value !== 'string' || value === '') fail(path, `expected ${what}, got ${preview(value)}`);
}

export function integer(value: unknown, path: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(path, `expected a non-negative integer, got ${preview(value)}`);
  }
}

export function hashHex(value: unknown, path: string): asserts value is string {
  if (typeof value !== 'string' || !HASH_HEX.test(value)) {
    fail(path, `expected 64 lowercase hex digits, got ${preview(value)}`);
  }
}

export function evmHash(value: unknown, path: string): asserts value is string {
  if (typeof value !== 'string' || !EVM_HASH_HEX.test(value)) {
    fail(path, `expected 0x and 64 lowercase hex digits, got ${preview(value)}`);
  }
}

export function fail(path: string, reason: string): never {
  throw new ReceiptFormatError(path, reason);
}

export function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
