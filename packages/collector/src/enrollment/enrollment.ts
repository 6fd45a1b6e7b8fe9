import { createApiKeySecret, hashApiKey, isApiKeySecret, isUniqueViolation, newId } from '@fieldproof/db';
import { parseVerifierKey } from '@fieldproof/note';
import type { CollectorDatabase } from '../db/collector-database.js';
import { findActiveDeviceByPushKeyHash, insertDevice } from '../db/devices.js';
import type { DeviceRow } from '../db/devices.js';

/** An enrollment that cannot be made; `message` is the operator's one line. */
export class EnrollmentError extends Error {
  override readonly name = 'EnrollmentError';
}

export interface EnrolledDevice {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  /** The push key: shown once, stored only as its SHA-256 (the api keys' hashing). */
  readonly pushKey: string;
  readonly createdAt: number;
}

/**
 * Enrolls a unit by the values `fieldproof device` prints on it: its checkpoint origin and its verifier
 * key (C2SP vkey, Ed25519). Returns the new push key, which goes into the unit's `apiKeyFile`.
 */
export async function enrollDevice(
  collector: CollectorDatabase,
  request: {
    readonly origin: string;
    readonly verifierKey: string;
    readonly label?: string;
    readonly now: number;
  },
): Promise<EnrolledDevice> {
  const { origin, verifierKey } = request;
  // eslint-disable-next-line no-control-regex
  if (origin === '' || /[\s+\u0000-\u001f\u007f]/u.test(origin) || origin.length > 255) {
    throw new EnrollmentError('--origin must be 1-255 characters without spaces, "+" or control characters');
  }
  try {
    parseVerifierKey(verifierKey);
  } catch (err) {
    throw new EnrollmentError(`--key is not an Ed25519 verifier key: ${(err as Error).message}`);
  }
  const pushKey = createApiKeySecret();
  const device = {
    id: newId(),
    origin,
    verifierKey,
    pushKeyHash: hashApiKey(pushKey),
    label: request.label ?? null,
    createdAt: request.now,
  };
  try {
    await insertDevice(collector.db, device);
  } catch (err) {
    if (isUniqueViolation(err))
      throw new EnrollmentError(`a device with origin ${origin} is already enrolled`);
    throw err;
  }
  return { id: device.id, origin, verifierKey, pushKey, createdAt: request.now };
}

/** The live device a push key belongs to, or undefined for a malformed, unknown or revoked key. */
export async function authenticatePushKey(
  collector: CollectorDatabase,
  pushKey: string,
): Promise<DeviceRow | undefined> {
  if (!isApiKeySecret(pushKey)) return undefined;
  return findActiveDeviceByPushKeyHash(collector.db, hashApiKey(pushKey));
}
