import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { FieldproofConfig, Secrets } from '@fieldproof/config';
import { LOG_META, getLatestCheckpoint, getLogMeta, initLogMeta } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import {
  DeviceKeyError,
  NoteError,
  deviceKeyFromSeed,
  deviceKeyFromSignerKey,
  loadDeviceKey,
  loadOrCreateDeviceKey,
  openCheckpoint,
  parseVerifierKey,
} from '@fieldproof/note';
import type { DeviceKey } from '@fieldproof/note';

/**
 * The device's identity in its log: the Ed25519 key that signs checkpoints and the checkpoint origin.
 *
 * - Key: `FIELDPROOF_DEVICE_KEY` (secret store: the key file's `PRIVATE+KEY+…` line, or a 32-byte seed
 *   as 64 hex digits) or else the key file `FIELDPROOF_DEVICE_KEY_FILE` (default `<dataDir>/device.key`),
 *   created 0600 on first start. A key file group or others can read is refused.
 * - Key name (part of the key id verifiers pin): kept from the stored verifier key, else the configured
 *   origin, else {@link DEFAULT_KEY_NAME}.
 * - Origin: `FIELDPROOF_LOG_ORIGIN`, else the origin already fixed for this log, else
 *   {@link defaultOrigin} of the public key.
 *
 * On first start origin and verifier key are written to `log_meta` (so the api serves them without the
 * private key). Afterwards a different configured origin or a different key is refused: a device must
 * never silently fork its log.
 */
export interface DeviceIdentity {
  readonly key: DeviceKey;
  readonly origin: string;
  /** C2SP vkey: `<name>+<key id>+<base64(0x01 ‖ public key)>`. */
  readonly verifierKey: string;
  /** Where the key came from: the secret-store variable or the key file (with its path). */
  readonly source:
    { readonly kind: 'secret' } | { readonly kind: 'file'; readonly path: string; readonly created: boolean };
}

/** Name given to a new device key when no origin is configured. */
export const DEFAULT_KEY_NAME = 'fieldproof-device';

/** A reason not to start, as one line an operator can act on. */
export class DeviceIdentityError extends Error {
  override readonly name = 'DeviceIdentityError';
}

/** `fieldproof.local/log/<first 16 hex digits of SHA-256(public key)>`: unique per key, stable. */
export function defaultOrigin(publicKey: Uint8Array): string {
  return `fieldproof.local/log/${createHash('sha256').update(publicKey).digest('hex').slice(0, 16)}`;
}

export interface OpenDeviceIdentityDeps {
  readonly database: Database;
  readonly config: FieldproofConfig;
  readonly secrets: Secrets;
  readonly now: () => number;
}

/**
 * Loads (or on first start creates) the device key, settles the origin, and fixes both in `log_meta`.
 * Throws {@link DeviceIdentityError} (or the note package's `DeviceKeyError`, e.g. `InsecureKeyFileError`)
 * with a one-line message; the message never contains key material.
 */
export async function openDeviceIdentity(deps: OpenDeviceIdentityDeps): Promise<DeviceIdentity> {
  const { database, config, secrets } = deps;
  const db = database.db;
  const storedOrigin = await getLogMeta(db, LOG_META.origin);
  const storedKey = await getLogMeta(db, LOG_META.verifierKey);
  const keyName = nameOf(storedKey) ?? config.device.origin ?? DEFAULT_KEY_NAME;

  const { key, source } = await loadKey(secrets, config.device.keyFile, keyName, storedKey);
  const origin = config.device.origin ?? storedOrigin ?? defaultOrigin(key.publicKey);
  checkAgainstStored(origin, key.verifierKey, storedOrigin, storedKey);

  if (storedOrigin === undefined || storedKey === undefined) {
    // First start: fix both in one transaction. initLogMeta keeps a value another process set first, so
    // two keepers starting together on a fresh database agree or the loser refuses.
    const fixed = await db.transaction().execute(async (trx) => ({
      origin: await initLogMeta(trx, LOG_META.origin, origin, deps.now()),
      verifierKey: await initLogMeta(trx, LOG_META.verifierKey, key.verifierKey, deps.now()),
    }));
    checkAgainstStored(origin, key.verifierKey, fixed.origin, fixed.verifierKey);
  }

  // Belt and braces: the log's newest checkpoint must be this origin's and verify with this key.
  const latest = await getLatestCheckpoint(db);
  if (latest !== undefined) {
    let verified = false;
    try {
      verified = openCheckpoint(latest.signed_note, key.verifierKey).checkpoint.origin === origin;
    } catch (err) {
      if (!(err instanceof NoteError)) throw err;
    }
    if (!verified || latest.origin !== origin) {
      throw new DeviceIdentityError(
        `the log's latest checkpoint (tree size ${latest.tree_size}, origin ${latest.origin}) was not signed ` +
          `by device key ${key.verifierKey} for origin ${origin}; refusing to fork the log`,
      );
    }
  }
  return { key, origin, verifierKey: key.verifierKey, source };
}

async function loadKey(
  secrets: Secrets,
  keyFile: string,
  name: string,
  storedKey: string | undefined,
): Promise<{ key: DeviceKey; source: DeviceIdentity['source'] }> {
  if (secrets.deviceKey !== undefined) {
    return { key: keyFromSecret(secrets.deviceKey, name), source: { kind: 'secret' } };
  }
  if (fs.existsSync(keyFile)) {
    return { key: await loadDeviceKey(keyFile), source: { kind: 'file', path: keyFile, created: false } };
  }
  if (storedKey !== undefined) {
    throw new DeviceIdentityError(
      `device key file ${keyFile} does not exist, but this log was started with device key ${storedKey}: ` +
        'restore the key file (or set FIELDPROOF_DEVICE_KEY_FILE / FIELDPROOF_DEVICE_KEY); ' +
        'a new key would fork the log',
    );
  }
  const key = await loadOrCreateDeviceKey(keyFile, { name });
  return { key, source: { kind: 'file', path: keyFile, created: true } };
}

const SEED_HEX = /^[0-9a-fA-F]{64}$/;

/** FIELDPROOF_DEVICE_KEY: a `PRIVATE+KEY+…` signer key line, or a 32-byte Ed25519 seed in hex. */
function keyFromSecret(secret: string, name: string): DeviceKey {
  const text = secret.trim();
  try {
    if (text.startsWith('PRIVATE+KEY+')) return deviceKeyFromSignerKey(text);
    if (SEED_HEX.test(text)) {
      const seed = Buffer.from(text, 'hex');
      try {
        return deviceKeyFromSeed(seed, name);
      } finally {
        seed.fill(0);
      }
    }
  } catch (err) {
    // The note package's messages never echo key material.
    if (err instanceof NoteError)
      throw new DeviceKeyError(undefined, `FIELDPROOF_DEVICE_KEY: ${err.message}`);
    throw err;
  }
  throw new DeviceKeyError(
    undefined,
    'FIELDPROOF_DEVICE_KEY must be a PRIVATE+KEY+<name>+<id>+<base64> signer key or 64 hex digits (an Ed25519 seed)',
  );
}

function checkAgainstStored(
  origin: string,
  verifierKey: string,
  storedOrigin: string | undefined,
  storedKey: string | undefined,
): void {
  if (storedOrigin !== undefined && storedOrigin !== origin) {
    throw new DeviceIdentityError(
      `the configured origin "${origin}" differs from this log's origin "${storedOrigin}" (fixed on first ` +
        'start); unset or correct FIELDPROOF_LOG_ORIGIN — a device must not fork its log',
    );
  }
  if (storedKey !== undefined && storedKey !== verifierKey) {
    throw new DeviceIdentityError(
      `the device key ${verifierKey} differs from this log's key ${storedKey} (fixed on first start); ` +
        'use the original key — a device must not fork its log',
    );
  }
}

function nameOf(verifierKey: string | undefined): string | undefined {
  if (verifierKey === undefined) return undefined;
  try {
    return parseVerifierKey(verifierKey).name;
  } catch {
    return undefined;
  }
}
