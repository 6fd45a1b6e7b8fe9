import { preparedOnPostgres } from '@fieldproof/db';
import type { EngineCapabilities } from '@fieldproof/db';
import type { Kysely, Selectable } from 'kysely';
import type { CollectorSchema, DeviceTable } from './collector-schema.js';

export type DeviceRow = Selectable<DeviceTable>;

export interface NewDevice {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly pushKeyHash: string;
  readonly label: string | null;
  readonly createdAt: number;
}

export async function insertDevice(db: Kysely<CollectorSchema>, device: NewDevice): Promise<void> {
  await db
    .insertInto('devices')
    .values({
      id: device.id,
      origin: device.origin,
      verifier_key: device.verifierKey,
      push_key_hash: device.pushKeyHash,
      label: device.label,
      created_at: device.createdAt,
      revoked_at: null,
      tree_size: 0,
      root_hash: null,
      updated_at: device.createdAt,
    })
    .execute();
}

export async function findDeviceByOrigin(
  db: Kysely<CollectorSchema>,
  origin: string,
): Promise<DeviceRow | undefined> {
  const row = await db.selectFrom('devices').selectAll().where('origin', '=', origin).executeTakeFirst();
  return row === undefined ? undefined : normalise(row);
}

/** The live (not revoked) device whose push key has this SHA-256, if any. */
export async function findActiveDeviceByPushKeyHash(
  db: Kysely<CollectorSchema>,
  pushKeyHash: string,
): Promise<DeviceRow | undefined> {
  // Every push runs this first: prepared once per PostgreSQL connection, so its columns are named.
  const query = db
    .selectFrom('devices')
    .select(DEVICE_COLUMNS)
    .where('push_key_hash', '=', pushKeyHash)
    .where('revoked_at', 'is', null)
    .compile();
  preparedOnPostgres(query.sql);
  const row = (await db.executeQuery(query)).rows[0];
  return row === undefined ? undefined : normalise(row);
}

const DEVICE_COLUMNS = [
  'id',
  'origin',
  'verifier_key',
  'push_key_hash',
  'label',
  'created_at',
  'revoked_at',
  'tree_size',
  'root_hash',
  'updated_at',
] as const satisfies readonly (keyof DeviceTable)[]; // normalise() takes a whole row: none can be missing

export async function listDevices(db: Kysely<CollectorSchema>): Promise<DeviceRow[]> {
  const rows = await db.selectFrom('devices').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(normalise);
}

/** Revokes a device by origin; false when there is no such live device. Its mirrored log stays. */
export async function revokeDevice(
  db: Kysely<CollectorSchema>,
  origin: string,
  revokedAt: number,
): Promise<boolean> {
  const result = await db
    .updateTable('devices')
    .set({ revoked_at: revokedAt, updated_at: revokedAt })
    .where('origin', '=', origin)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Reads the device row inside the write transaction `trx`, locking it until COMMIT/ROLLBACK: pushes for
 * one device are serialised by the database, whichever replica runs them. PostgreSQL: `FOR UPDATE` on the
 * row (released by the engine if the holder dies). Single-writer engines (SQLite): the transaction's
 * write lock (BEGIN IMMEDIATE) already excludes every other writer.
 */
export async function lockDevice(
  trx: Kysely<CollectorSchema>,
  capabilities: EngineCapabilities,
  deviceId: string,
): Promise<DeviceRow | undefined> {
  let query = trx.selectFrom('devices').selectAll().where('id', '=', deviceId);
  if (!capabilities.singleWriter) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row === undefined ? undefined : normalise(row);
}

function normalise(row: DeviceRow): DeviceRow {
  return {
    ...row,
    created_at: Number(row.created_at),
    revoked_at: row.revoked_at === null ? null : Number(row.revoked_at),
    tree_size: Number(row.tree_size),
    updated_at: Number(row.updated_at),
  };
}
