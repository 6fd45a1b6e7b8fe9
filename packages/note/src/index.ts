/**
 * `@fieldproof/note`: C2SP tlog-checkpoint bodies, C2SP signed notes with Ed25519 keys (interoperable
 * with golang.org/x/mod/sumdb/note), verifier key strings, and the device key file. Imports nothing of
 * ours; `device-key.ts` and `key-file.ts` are the only files that touch the file system. Formats:
 * docs/FORMATS.md §2–4.
 */
export { formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
export {
  DeviceKey,
  deviceKeyFromSeed,
  deviceKeyFromSignerKey,
  generateDeviceKey,
  loadDeviceKey,
  loadOrCreateDeviceKey,
  type DeviceKeyFileOptions,
} from './device-key.js';
export {
  AmbiguousVerifierError,
  DeviceKeyError,
  InsecureKeyFileError,
  InvalidSignatureError,
  MalformedCheckpointError,
  MalformedKeyError,
  MalformedNoteError,
  NoteError,
  UnverifiedNoteError,
  formatKeyId,
  type NoteSignatureData,
} from './errors.js';
export {
  MAX_NOTE_SIGNATURES,
  openNote,
  parseSignedNote,
  signNote,
  type NoteSignature,
  type NoteSigner,
  type OpenedNote,
  type ParsedNote,
} from './signed-note.js';
export {
  SIGNATURE_TYPE_ED25519,
  createNoteVerifier,
  formatVerifierKey,
  keyIdOf,
  parseVerifierKey,
  type NoteVerifier,
  type VerifierKey,
} from './verifier-key.js';
export { openCheckpoint, signCheckpoint, type OpenedCheckpoint } from './signed-checkpoint.js';
export {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  cosignedMessage,
  cosignerKeyIdOf,
  createCosigner,
  formatCosignerKey,
  parseCosignerKey,
  verifyCosignature,
  type Cosignature,
  type Cosigner,
} from './cosignature.js';
export { setEd25519Verify, type Ed25519Verify } from './platform.js';
