/**
 * `@fieldproof/note/verify`: the verifying half of this package — checkpoints, signed notes, verifier
 * keys, cosignatures — without the device key file (node:fs) or Ed25519 signing (node:crypto). What an
 * offline verifier (`@fieldproof/receipt`) imports, so that it can be bundled for a browser: there,
 * give an Ed25519 implementation with {@link setEd25519Verify} (see platform.ts).
 */
export { formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
export {
  AmbiguousVerifierError,
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
  type NoteSignature,
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
export { openCheckpoint, type OpenedCheckpoint } from './signed-checkpoint.js';
export {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  cosignedMessage,
  cosignerKeyIdOf,
  formatCosignerKey,
  parseCosignerKey,
  verifyCosignature,
  type Cosignature,
} from './cosignature.js';
export { setEd25519Verify, type Ed25519Verify } from './platform.js';
