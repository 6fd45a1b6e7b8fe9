import type { Kysely, Selectable } from 'kysely';
import type { ApiKeyTable, ApiScope } from '../schema/api-key-table.js';
import type { Schema } from '../schema/schema.js';

export type ApiKeyRow = Selectable<ApiKeyTable>;

export interface NewApiKey {
  readonly id: string;
  readonly keyHash: string;
  readonly label: string | null;
  readonly scopes: readonly ApiScope[];
  readonly createdAt: number;
}

export async function insertApiKey(db: Kysely<Schema>, key: NewApiKey): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      key_hash: key.keyHash,
      label: key.label,
      scopes: key.scopes.join(','),
      created_at: key.createdAt,
      revoked_at: null,
    })
    .execute();
}

/** The live (not revoked) key with this hash, if any. */
export async function findActiveApiKeyByHash(
  db: Kysely<Schema>,
  keyHash: string,
): Promise<ApiKeyRow | undefined> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function listApiKeys(db: Kysely<Schema>): Promise<ApiKeyRow[]> {
  return db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function countActiveApiKeys(db: Kysely<Schema>, scope?: ApiScope): Promise<number> {
  const rows = await db.selectFrom('api_keys').select('scopes').where('revoked_at', 'is', null).execute();
  return scope === undefined ? rows.length : rows.filter((r) => parseScopes(r.scopes).includes(scope)).length;
}

/** Revokes a key by id; returns false when there is no such live key. */
export async function revokeApiKey(db: Kysely<Schema>, id: string, revokedAt: number): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: revokedAt })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export function parseScopes(scopes: string): ApiScope[] {
  return scopes.split(',').filter((s): s is ApiScope => s === 'read' || s === 'write' || s === 'admin');
}
