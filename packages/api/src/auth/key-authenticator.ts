import { findActiveApiKeyByHash, hashApiKey, isApiKeySecret, parseScopes } from '@fieldproof/db';
import type { ApiScope, Database } from '@fieldproof/db';

/** The authenticated caller. */
export interface ApiPrincipal {
  readonly keyId: string;
  readonly scopes: readonly ApiScope[];
}

interface CacheEntry {
  readonly principal: ApiPrincipal | null;
  readonly expiresAt: number;
}

/** Above this many cached lookups the cache starts over (bounds memory under random-key floods). */
const MAX_ENTRIES = 10_000;

/**
 * Resolves bearer keys to principals, caching each lookup (found or not) for `ttlMs`: a key revoked with
 * `fieldproof keys revoke` stops working within `ttlMs`, and a new key works within `ttlMs` of a failed
 * attempt with it. The cache is keyed by the key's hash, so the secret itself is not kept in memory.
 */
export class KeyAuthenticator {
  readonly #database: Database;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();

  constructor(database: Database, ttlMs: number, now: () => number = Date.now) {
    this.#database = database;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The principal for `secret`, or null when it is malformed, unknown or revoked. */
  async authenticate(secret: string): Promise<ApiPrincipal | null> {
    if (!isApiKeySecret(secret)) return null;
    const hash = hashApiKey(secret);
    const now = this.#now();
    const cached = this.#cache.get(hash);
    if (cached !== undefined && cached.expiresAt > now) return cached.principal;
    const row = await findActiveApiKeyByHash(this.#database.db, hash);
    const principal = row === undefined ? null : { keyId: row.id, scopes: parseScopes(row.scopes) };
    if (this.#ttlMs > 0) {
      if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear();
      this.#cache.set(hash, { principal, expiresAt: now + this.#ttlMs });
    }
    return principal;
  }
}
