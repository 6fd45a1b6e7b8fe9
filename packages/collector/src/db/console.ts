import type { Kysely } from 'kysely';
import type { CollectorSchema } from './collector-schema.js';

/** A new operator key's row (the secret itself is shown once and never stored). */
export async function insertOperatorKey(
  db: Kysely<CollectorSchema>,
  key: { id: string; keyHash: string; label: string | null; createdAt: number },
): Promise<void> {
  await db
    .insertInto('operator_keys')
    .values({
      id: key.id,
      key_hash: key.keyHash,
      label: key.label,
      created_at: key.createdAt,
      revoked_at: null,
    })
    .execute();
}

export async function findActiveOperatorKeyByHash(db: Kysely<CollectorSchema>, keyHash: string) {
  return db
    .selectFrom('operator_keys')
    .selectAll()
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function listOperatorKeys(db: Kysely<CollectorSchema>) {
  return db.selectFrom('operator_keys').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Revokes an operator key (and so every console session signed in with it); false when none was live. */
export async function revokeOperatorKey(
  db: Kysely<CollectorSchema>,
  id: string,
  at: number,
): Promise<boolean> {
  const result = await db
    .updateTable('operator_keys')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function insertCollectorSession(
  db: Kysely<CollectorSchema>,
  session: { tokenHash: string; keyId: string; createdAt: number; expiresAt: number },
): Promise<void> {
  await db.deleteFrom('console_sessions').where('expires_at', '<=', session.createdAt).execute();
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

/** The live session with this token hash: not expired, its key not revoked. */
export async function findLiveCollectorSession(db: Kysely<CollectorSchema>, tokenHash: string, now: number) {
  return db
    .selectFrom('console_sessions')
    .innerJoin('operator_keys', 'operator_keys.id', 'console_sessions.key_id')
    .select(['console_sessions.key_id', 'console_sessions.expires_at'])
    .where('console_sessions.token_hash', '=', tokenHash)
    .where('console_sessions.expires_at', '>', now)
    .where('operator_keys.revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function deleteCollectorSession(db: Kysely<CollectorSchema>, tokenHash: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).execute();
}

/** Per enrolled device: when its newest accepted checkpoint arrived (its last push), and how many forks. */
export async function fleetActivity(db: Kysely<CollectorSchema>) {
  const [pushes, forks] = await Promise.all([
    db
      .selectFrom('device_checkpoints')
      .select(['device_id', (eb) => eb.fn.max<number | string>('received_at').as('t')])
      .groupBy('device_id')
      .execute(),
    db
      .selectFrom('equivocations')
      .select(['device_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('device_id')
      .execute(),
  ]);
  return {
    lastPushAt: new Map(pushes.map((p) => [p.device_id, Number(p.t)])),
    equivocations: new Map(forks.map((f) => [f.device_id, Number(f.n)])),
  };
}
