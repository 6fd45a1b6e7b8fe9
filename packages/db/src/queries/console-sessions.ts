import type { Kysely } from 'kysely';
import type { Schema } from '../schema/schema.js';

/** A live console session: its key and that key's scopes (comma-separated, as api_keys stores them). */
export interface ConsoleSessionRow {
  readonly keyId: string;
  readonly scopes: string;
  readonly expiresAt: number;
}

export async function insertConsoleSession(
  db: Kysely<Schema>,
  session: { tokenHash: string; keyId: string; createdAt: number; expiresAt: number },
): Promise<void> {
  await db
    .insertInto('console_sessions')
    .values({
      token_hash: session.tokenHash,
      key_id: session.keyId,
      created_at: session.createdAt,
      expires_at: session.expiresAt,
    })
    .execute();
}

/**
 * The session with this token hash when it has not expired at `now` and its key is not revoked: revoking
 * the key (`fieldproof keys revoke`) ends every session signed in with it, at the next request.
 */
export async function findLiveConsoleSession(
  db: Kysely<Schema>,
  tokenHash: string,
  now: number,
): Promise<ConsoleSessionRow | undefined> {
  const row = await db
    .selectFrom('console_sessions')
    .innerJoin('api_keys', 'api_keys.id', 'console_sessions.key_id')
    .select(['console_sessions.key_id', 'api_keys.scopes', 'console_sessions.expires_at'])
    .where('console_sessions.token_hash', '=', tokenHash)
    .where('console_sessions.expires_at', '>', now)
    .where('api_keys.revoked_at', 'is', null)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { keyId: row.key_id, scopes: row.scopes, expiresAt: Number(row.expires_at) };
}

/** Signs one session out. */
export async function deleteConsoleSession(db: Kysely<Schema>, tokenHash: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).execute();
}

/** Removes sessions that expired before `now` (run at each sign-in: the table stays small). */
export async function deleteExpiredConsoleSessions(db: Kysely<Schema>, now: number): Promise<number> {
  const result = await db.deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
