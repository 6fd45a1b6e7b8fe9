import {
  decodeBase64Strict,
  decodeUtf8Strict,
  encodeBase64,
  isValidKeyName,
  noteTextProblem,
  utf8,
} from './encoding.js';
import {
  AmbiguousVerifierError,
  InvalidSignatureError,
  MalformedNoteError,
  NoteError,
  UnverifiedNoteError,
  formatKeyId,
} from './errors.js';
import { createNoteVerifier, type NoteVerifier } from './verifier-key.js';

/**
 * C2SP signed notes (https://c2sp.org/signed-note), interoperable with golang.org/x/mod/sumdb/note:
 *
 * ```
 * <text, ending in a newline>
 * <blank line>
 * — <key name> <base64(uint32 key id, big-endian ‖ signature)>
 * [— <key name> <base64(…)> ...]
 * ```
 */

/** Signs note texts with one key. `DeviceKey` implements it. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** Signature over `message` (the note text's UTF-8 bytes), without the key id prefix. */
  sign(message: Uint8Array): Uint8Array;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The line's base64 field: key id ‖ signature. */
  readonly base64: string;
}

/** A note split into text and signature lines, signatures not checked. */
export interface ParsedNote {
  /** Note text, including its final newline. */
  readonly text: string;
  /** Every signature line, in order. */
  readonly signatures: readonly NoteSignature[];
}

/** A note whose signatures by known keys all verified (at least one). */
export interface OpenedNote {
  readonly text: string;
  /** Verified signatures, one per known key, in order of appearance. */
  readonly signatures: readonly NoteSignature[];
  /** Signatures by keys not among the verifiers (ignored, as the spec requires), duplicates dropped. */
  readonly unverifiedSignatures: readonly NoteSignature[];
}

/** More signature lines than this make a note malformed (the spec requires accepting at least 16). */
export const MAX_NOTE_SIGNATURES = 100;

const SIGNATURE_PREFIX = '\u2014 ';

/**
 * Signs `text` (which must end with a newline and hold no control characters other than newline)
 * and returns the signed note.
 */
export function signNote(text: string, signers: NoteSigner | readonly NoteSigner[]): string {
  const list: readonly NoteSigner[] = isSignerList(signers) ? signers : [signers];
  if (typeof text !== 'string' || !text.endsWith('\n'))
    throw new MalformedNoteError('text must end with a newline');
  const problem = noteTextProblem(text);
  if (problem !== undefined) throw new MalformedNoteError(problem);
  if (list.length === 0) throw new NoteError('signNote needs at least one signer');
  const message = utf8(text);
  const seen = new Set<string>();
  const lines = list.map((signer) => {
    const { name, keyId } = signer;
    if (!isValidKeyName(name)) throw new NoteError(`invalid signer name ${JSON.stringify(name)}`);
    if (!Number.isInteger(keyId) || keyId < 0 || keyId > 0xffffffff)
      throw new NoteError('invalid signer key id');
    const id = `${name}+${formatKeyId(keyId)}`;
    if (seen.has(id)) throw new NoteError(`two signers share the key ${id}`);
    seen.add(id);
    const signature = signer.sign(message);
    const field = new Uint8Array(4 + signature.length);
    new DataView(field.buffer).setUint32(0, keyId);
    field.set(signature, 4);
    return `${SIGNATURE_PREFIX}${name} ${encodeBase64(field)}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/**
 * Splits a signed note into its text and signature lines, checking the grammar only (no signature is
 * verified: use `openNote` for that). Throws `MalformedNoteError`.
 */
export function parseSignedNote(signedNote: string | Uint8Array): ParsedNote {
  const note = typeof signedNote === 'string' ? signedNote : decodeUtf8Strict(signedNote);
  if (note === undefined) throw new MalformedNoteError('not valid UTF-8');
  if (typeof note !== 'string') throw new MalformedNoteError('note must be a string or bytes');
  const problem = noteTextProblem(note);
  if (problem !== undefined) throw new MalformedNoteError(problem);
  // The text ends at the LAST blank line: the text itself may contain blank lines.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new MalformedNoteError('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '') throw new MalformedNoteError('no signature lines');
  if (!block.endsWith('\n')) throw new MalformedNoteError('last signature line does not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw new MalformedNoteError(`more than ${MAX_NOTE_SIGNATURES} signature lines`);
  }
  return { text, signatures: lines.map(parseSignatureLine) };
}

function parseSignatureLine(line: string, index: number): NoteSignature {
  const where = `signature line ${index + 1}`;
  if (!line.startsWith(SIGNATURE_PREFIX)) throw new MalformedNoteError(`${where} does not start with "— "`);
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw new MalformedNoteError(`${where} has no signature after the key name`);
  const name = rest.slice(0, space);
  const base64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) throw new MalformedNoteError(`${where} has an invalid key name`);
  const bytes = decodeBase64Strict(base64);
  if (bytes === undefined || bytes.length < 5)
    throw new MalformedNoteError(`${where} has a malformed signature`);
  const keyId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  return { name, keyId, base64 };
}

/**
 * Parses `signedNote` and verifies its signatures against `verifiers` (verifier key strings or
 * `NoteVerifier`s), following the spec: signatures by unknown keys are ignored (reported as
 * unverified); every signature line by a known key must verify, else `InvalidSignatureError` (stricter
 * than the Go package, which checks only the first line per key); at least one must, else
 * `UnverifiedNoteError`. Grammar errors throw `MalformedNoteError`.
 */
export function openNote(
  signedNote: string | Uint8Array,
  verifiers: NoteVerifier | string | readonly (NoteVerifier | string)[],
): OpenedNote {
  const known = indexVerifiers(verifiers);
  const { text, signatures } = parseSignedNote(signedNote);
  const message = utf8(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const verifiedKeys = new Set<string>();
  const unverifiedLines = new Set<string>();
  for (const signature of signatures) {
    const id = `${signature.name}+${formatKeyId(signature.keyId)}`;
    const candidates = known.get(id);
    if (candidates === undefined) {
      const line = `${signature.name} ${signature.base64}`;
      if (!unverifiedLines.has(line)) unverified.push(signature);
      unverifiedLines.add(line);
      continue;
    }
    const [verifier] = candidates;
    if (verifier === undefined || candidates.length > 1) {
      throw new AmbiguousVerifierError(signature.name, signature.keyId);
    }
    const bytes = decodeBase64Strict(signature.base64) ?? new Uint8Array();
    if (!verifier.verify(message, bytes.subarray(4))) {
      throw new InvalidSignatureError(signature.name, signature.keyId);
    }
    if (!verifiedKeys.has(id)) verified.push(signature);
    verifiedKeys.add(id);
  }
  if (verified.length === 0) throw new UnverifiedNoteError({ text, unverifiedSignatures: unverified });
  return { text, signatures: verified, unverifiedSignatures: unverified };
}

function indexVerifiers(
  verifiers: NoteVerifier | string | readonly (NoteVerifier | string)[],
): Map<string, NoteVerifier[]> {
  const list: readonly (NoteVerifier | string)[] = Array.isArray(verifiers)
    ? (verifiers as readonly (NoteVerifier | string)[])
    : [verifiers as NoteVerifier | string];
  const index = new Map<string, NoteVerifier[]>();
  for (const entry of list) {
    const verifier = typeof entry === 'string' ? createNoteVerifier(entry) : entry;
    const id = `${verifier.name}+${formatKeyId(verifier.keyId)}`;
    index.set(id, [...(index.get(id) ?? []), verifier]);
  }
  return index;
}

function isSignerList(signers: NoteSigner | readonly NoteSigner[]): signers is readonly NoteSigner[] {
  return Array.isArray(signers);
}
