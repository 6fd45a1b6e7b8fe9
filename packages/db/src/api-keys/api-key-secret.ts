// The API key's secret format and the hash `api_keys.key_hash` stores: here, beside the table, so the api
// (checking keys) and `fieldproof keys` (issuing them) share it without one loading the other.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiScope } from '../schema/api-key-table.js';

/** `fp_` + 43 base64url characters = 32 random bytes (256 bits). */
const KEY_PATTERN = /^fp_[A-Za-z0-9_-]{43}$/;

export const API_SCOPES: readonly ApiScope[] = ['read', 'write', 'admin'];

/** A new API key secret: `fp_` followed by 256 random bits in base64url. Shown once, stored only hashed. */
export function createApiKeySecret(): string {
  return `fp_${randomBytes(32).toString('base64url')}`;
}

/** Whether `value` has the shape of a key this server issues (checked before any lookup). */
export function isApiKeySecret(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/** SHA-256 hex of the key: what `api_keys.key_hash` stores. A fast hash suffices for 256-bit secrets. */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Parses a `read,write` scope list; throws a one-line Error on an unknown or empty list. */
export function parseScopeList(text: string): ApiScope[] {
  const scopes = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (scopes.length === 0) throw new Error('no scopes given (use e.g. read,write)');
  for (const s of scopes) {
    if (!(API_SCOPES as readonly string[]).includes(s)) {
      throw new Error(`unknown scope "${s}" (scopes: ${API_SCOPES.join(', ')})`);
    }
  }
  return [...new Set(scopes as ApiScope[])];
}

/** Whether a key with `scopes` may use a route that needs `needed`. `admin` includes read and write. */
export function hasScope(scopes: readonly ApiScope[], needed: ApiScope): boolean {
  return scopes.includes(needed) || scopes.includes('admin');
}
