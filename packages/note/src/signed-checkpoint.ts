import { formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { openNote, signNote, type NoteSigner, type OpenedNote } from './signed-note.js';
import type { NoteVerifier } from './verifier-key.js';

/** A checkpoint whose note verified. */
export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: OpenedNote;
}

/** Formats `checkpoint` and signs it: the signed checkpoint note a log publishes. */
export function signCheckpoint(checkpoint: Checkpoint, signers: NoteSigner | readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(checkpoint), signers);
}

/** `openNote`, then `parseCheckpoint` of its text. Throws the errors of both. */
export function openCheckpoint(
  signedNote: string | Uint8Array,
  verifiers: NoteVerifier | string | readonly (NoteVerifier | string)[],
): OpenedCheckpoint {
  const note = openNote(signedNote, verifiers);
  return { checkpoint: parseCheckpoint(note.text), note };
}
