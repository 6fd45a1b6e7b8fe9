/**
 * `@fieldproof/note`: C2SP tlog-checkpoint bodies, C2SP signed notes with Ed25519 keys (interoperable
 * with golang.org/x/mod/sumdb/note), verifier key strings, and the device key file. Imports nothing of
 * ours; `device-key.ts` and `key-file.ts` are the only files that touch the file system. Formats:
 * docs/FORMATS.md §2–4.
 *
 * Everything of the verifying half (`@fieldproof/note/verify`, which a browser bundle takes), plus the
 * signing half: device keys, signing notes and checkpoints, cosigners.
 */
export * from './verify.js';
export {
  DeviceKey,
  deviceKeyFromSeed,
  deviceKeyFromSignerKey,
  generateDeviceKey,
  loadDeviceKey,
  loadOrCreateDeviceKey,
  type DeviceKeyFileOptions,
} from './device-key.js';
export { DeviceKeyError, InsecureKeyFileError } from './errors.js';
export { signNote, type NoteSigner } from './signed-note.js';
export { signCheckpoint } from './signed-checkpoint.js';
export { createCosigner, type Cosigner } from './cosignature.js';
