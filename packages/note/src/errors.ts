/**
 * Error classes of `@fieldproof/note`. Each carries the data a caller needs to act on it;
 * messages are one line and never contain private key material.
 */

/** Base class: `err instanceof NoteError` catches every error this package throws on purpose. */
export class NoteError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A signed note that does not follow the C2SP signed-note grammar. */
export class MalformedNoteError extends NoteError {
  constructor(readonly reason: string) {
    super(`malformed note: ${reason}`);
  }
}

/** A checkpoint body that does not follow the C2SP tlog-checkpoint grammar. */
export class MalformedCheckpointError extends NoteError {
  constructor(readonly reason: string) {
    super(`malformed checkpoint: ${reason}`);
  }
}

/** A verifier key (`<name>+<keyid>+<key>`) or signer key (`PRIVATE+KEY+…`) that cannot be used. */
export class MalformedKeyError extends NoteError {
  constructor(readonly reason: string) {
    super(`malformed key: ${reason}`);
  }
}

/** The note parsed, but no signature in it is by one of the given verifiers. */
export class UnverifiedNoteError extends NoteError {
  constructor(
    /** The parsed note: every signature in it is unverified. */
    readonly note: { readonly text: string; readonly unverifiedSignatures: readonly NoteSignatureData[] },
  ) {
    super('note has no verifiable signatures');
  }
}

/** A signature line names a known key (name and key id match) but the signature does not verify. */
export class InvalidSignatureError extends NoteError {
  constructor(
    readonly keyName: string,
    readonly keyId: number,
  ) {
    super(`invalid signature for key ${keyName}+${formatKeyId(keyId)}`);
  }
}

/** Two of the given verifiers share both name and key id, so a signature cannot be attributed. */
export class AmbiguousVerifierError extends NoteError {
  constructor(
    readonly keyName: string,
    readonly keyId: number,
  ) {
    super(`ambiguous key ${keyName}+${formatKeyId(keyId)}`);
  }
}

/** The device key file cannot be used (wrong mode, wrong content, wrong name, not a file). */
export class DeviceKeyError extends NoteError {
  constructor(
    readonly path: string | undefined,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(path === undefined ? `device key: ${reason}` : `device key file ${path}: ${reason}`, options);
  }
}

/** The device key file is accessible by group or others; it is refused rather than used. */
export class InsecureKeyFileError extends DeviceKeyError {
  constructor(
    path: string,
    /** Permission bits of the file (`stat.mode & 0o777`). */
    readonly mode: number,
  ) {
    super(
      path,
      `mode ${mode.toString(8).padStart(4, '0')} gives group or others access to the private key; ` +
        `refusing to use it (fix with: chmod 600 '${path}')`,
    );
  }
}

/** The shape of one signature line, as reported by errors (see `NoteSignature`). */
export interface NoteSignatureData {
  readonly name: string;
  readonly keyId: number;
  readonly base64: string;
}

/** A key id as the 8 lowercase hex digits used in key strings and messages. */
export function formatKeyId(keyId: number): string {
  return (keyId >>> 0).toString(16).padStart(8, '0');
}
