import { InvalidHashError, InvalidIntegerError } from './errors.js';
import { HASH_SIZE, type Hash } from './hash/hasher.js';

// Internal guards shared by the public entry points. They run once per call (O(log n) at most), never in
// the hashing loops, so validation stays cheap.

/** Throws {@link InvalidIntegerError} unless `value` is a safe integer ≥ 0. */
export function assertSize(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidIntegerError(what, value);
}

/** Throws {@link InvalidHashError} unless `value` is a 32-byte `Uint8Array`. */
export function assertHash(what: string, value: unknown): asserts value is Hash {
  if (!(value instanceof Uint8Array)) throw new InvalidHashError(what, undefined);
  if (value.length !== HASH_SIZE) throw new InvalidHashError(what, value.length);
}

/** {@link assertHash} for every element of a list, naming each by its position. */
export function assertHashes(what: string, values: readonly unknown[]): void {
  values.forEach((value, i) => assertHash(`${what}[${i}]`, value));
}

/** Byte-wise equality; lengths may differ (then they are simply unequal). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
