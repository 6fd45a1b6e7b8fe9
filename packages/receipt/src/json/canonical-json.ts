import { sha256, toHex } from '@fieldproof/merkle';
import canonicalizeModule from 'canonicalize';
import { CanonicalJsonError } from '../errors.js';

/** A JSON value as JSON.parse produces it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

// canonicalize is CommonJS (`module.exports = serialize`) with an ESM-style `export default` typing;
// under NodeNext the default import is the function at runtime but typed as the module object.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

const MAX_DEPTH = 64;
const UTF8 = new TextEncoder();

/**
 * RFC 8785 (JCS) canonical JSON text of `value`. The value is first checked to be plain I-JSON — plain
 * objects, arrays, strings without lone surrogates, finite numbers, booleans, null; no `undefined`, no
 * class instances, no `toJSON` — because `canonicalize` would otherwise serialise such values in ways
 * two implementations need not agree on. Throws `CanonicalJsonError` naming the offending path.
 */
export function canonicalJson(value: unknown, path = '$'): string {
  assertJsonValue(value, path, 0);
  const text = canonicalize(value);
  if (text === undefined) throw new CanonicalJsonError(path, 'cannot be canonicalised');
  return text;
}

/** UTF-8 bytes of `canonicalJson(value)`. */
export function canonicalJsonBytes(value: unknown, path = '$'): Uint8Array {
  return UTF8.encode(canonicalJson(value, path));
}

/** Lowercase hex SHA-256 of `bytes` (the one hasher of `@fieldproof/merkle`). */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}

/** Whether `value` is a plain JSON object (not an array, not null, not a class instance). */
export function isJsonObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

const LONE_SURROGATE = /\p{Surrogate}/u;

function assertJsonValue(value: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new CanonicalJsonError(path, `nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a JSON number`);
      return;
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError(path, 'string holds a lone surrogate');
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new CanonicalJsonError(`${path}[${i}]`, 'is a hole in a sparse array');
          assertJsonValue(value[i], `${path}[${i}]`, depth + 1);
        }
        return;
      }
      if (!isJsonObject(value)) throw new CanonicalJsonError(path, 'is not a plain object');
      for (const [key, item] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) throw new CanonicalJsonError(path, 'a key holds a lone surrogate');
        assertJsonValue(item, `${path}.${key}`, depth + 1);
      }
      return;
    default:
      throw new CanonicalJsonError(path, `${typeof value} is not a JSON value`);
  }
}
