import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AmbiguousVerifierError,
  InvalidSignatureError,
  MAX_NOTE_SIGNATURES,
  MalformedNoteError,
  NoteError,
  UnverifiedNoteError,
  createNoteVerifier,
  deviceKeyFromSignerKey,
  generateDeviceKey,
  openNote,
  parseSignedNote,
  signNote,
} from '../src/index.js';

// Vectors from golang.org/x/mod/sumdb/note (note_test.go): agreeing byte for byte with the Go
// implementation proves interoperability instead of assuming it.
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_B64 =
  'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const ENOCH_B64 =
  'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=';
const PETER_SIG = `— PeterNeumann ${PETER_B64}\n`;
const ENOCH_SIG = `— EnochRoot ${ENOCH_B64}\n`;
const peter = { name: 'PeterNeumann', keyId: 0xc74f20a3, base64: PETER_B64 };
const enoch = { name: 'EnochRoot', keyId: 0xaf0cfe78, base64: ENOCH_B64 };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('signNote', () => {
  it('produces the Go vector byte for byte', () => {
    expect(signNote(TEXT, deviceKeyFromSignerKey(PETER_SKEY))).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('signs with several keys in order', () => {
    const a = generateDeviceKey('a.example/log');
    const b = generateDeviceKey('b.example/witness');
    const note = signNote(TEXT, [a, b]);
    expect(parseSignedNote(note).signatures.map((s) => s.name)).toEqual([
      'a.example/log',
      'b.example/witness',
    ]);
    expect(openNote(note, [a.verifierKey, b.verifierKey]).signatures).toHaveLength(2);
  });

  it.each([
    ['text without final newline', 'abc'],
    ['empty text', ''],
    ['control character', 'a\tb\n'],
    ['carriage return', 'a\r\n'],
    ['lone surrogate', 'a\ud800\n'],
  ])('refuses %s', (_name, text) => {
    expect(() => signNote(text, deviceKeyFromSignerKey(PETER_SKEY))).toThrow(MalformedNoteError);
  });

  it('refuses no signers, duplicated signers and invalid signer names', () => {
    const key = deviceKeyFromSignerKey(PETER_SKEY);
    expect(() => signNote(TEXT, [])).toThrow(NoteError);
    expect(() => signNote(TEXT, [key, key])).toThrow(/two signers share the key PeterNeumann\+c74f20a3/);
    const bad = { name: 'bad name', keyId: 1, sign: () => new Uint8Array(64) };
    expect(() => signNote(TEXT, bad)).toThrow(/invalid signer name/);
  });
});

describe('openNote', () => {
  it('verifies the Go vector and reports the unknown second signature as unverified', () => {
    const note = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [PETER_VKEY]);
    expect(note.text).toBe(TEXT);
    expect(note.signatures).toEqual([peter]);
    expect(note.unverifiedSignatures).toEqual([enoch]);
  });

  it('verifies a signature made by Go with a key we never held (EnochRoot)', () => {
    const note = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [createNoteVerifier(PETER_VKEY), ENOCH_VKEY]);
    expect(note.signatures).toEqual([peter, enoch]);
    expect(note.unverifiedSignatures).toEqual([]);
  });

  it('throws UnverifiedNoteError, carrying the parsed note, when no known key signed', () => {
    const err = thrown(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []));
    expect(err).toBeInstanceOf(UnverifiedNoteError);
    expect((err as UnverifiedNoteError).message).toBe('note has no verifiable signatures');
    expect((err as UnverifiedNoteError).note.unverifiedSignatures).toEqual([peter, enoch]);
  });

  it('ignores a signature from a key that shares only the name or only the id with a known key', () => {
    const other = generateDeviceKey('PeterNeumann');
    const note = `${TEXT}\n${signNote(TEXT, other).slice(TEXT.length + 1)}${PETER_SIG}`;
    expect(openNote(note, PETER_VKEY).signatures).toEqual([peter]);
    const renamed = PETER_SIG.replace('PeterNeumann', 'PeterNeuman');
    expect(() => openNote(`${TEXT}\n${renamed}`, PETER_VKEY)).toThrow(UnverifiedNoteError);
  });

  it('throws AmbiguousVerifierError only when a duplicated verifier is needed', () => {
    const err = thrown(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY]));
    expect(err).toBeInstanceOf(AmbiguousVerifierError);
    expect((err as Error).message).toBe('ambiguous key EnochRoot+af0cfe78');
    expect(openNote(`${TEXT}\n${PETER_SIG}`, [ENOCH_VKEY, PETER_VKEY, ENOCH_VKEY]).signatures).toEqual([
      peter,
    ]);
  });

  it('throws InvalidSignatureError when a known key signature does not verify', () => {
    const bad = `${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    const err = thrown(() => openNote(`${TEXT}\n${bad}`, PETER_VKEY));
    expect(err).toBeInstanceOf(InvalidSignatureError);
    expect((err as Error).message).toBe('invalid signature for key PeterNeumann+c74f20a3');
  });

  it('verifies every line by a known key, and drops repeated unverified lines', () => {
    const enochAbcd = `${ENOCH_SIG.slice(0, 60)}ABCD${ENOCH_SIG.slice(60)}`;
    const note = openNote(
      `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${enochAbcd}`,
      PETER_VKEY,
    );
    expect(note.signatures).toEqual([peter]);
    expect(note.unverifiedSignatures.map((s) => s.base64)).toEqual([ENOCH_B64, enochAbcd.slice(12, -1)]);
    // Stricter than Go, as the spec recommends: a bad second line by a known key rejects the note.
    const peterAbcd = `${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    expect(() => openNote(`${TEXT}\n${PETER_SIG}${peterAbcd}`, PETER_VKEY)).toThrow(InvalidSignatureError);
  });

  it(`accepts ${MAX_NOTE_SIGNATURES} signature lines and refuses more`, () => {
    expect(openNote(`${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES)}`, PETER_VKEY).signatures).toHaveLength(
      1,
    );
    expect(() => openNote(`${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES + 1)}`, PETER_VKEY)).toThrow(
      MalformedNoteError,
    );
    expect(() => openNote(`${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES + 1)}`, [])).toThrow(
      MalformedNoteError,
    );
  });

  it.each([
    ['text only', TEXT],
    ['no signature lines', `${TEXT}\n`],
    ['last line without newline', `${TEXT}\n${PETER_SIG.slice(0, -1)}`],
    ['control character', `\x01${TEXT}\n${PETER_SIG}`],
    ['invalid UTF-8', Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)])],
    ['space in key name', `${TEXT}\n— Bad Name ${PETER_B64}\n`],
    ['plus in key name', `${TEXT}\n— Bad+Name ${PETER_B64}\n`],
    ['line after the signatures', `${TEXT}\n${PETER_SIG}Unexpected line.\n`],
    ['hyphen instead of em dash', `${TEXT}\n- PeterNeumann ${PETER_B64}\n`],
    ['missing signature', `${TEXT}\n— PeterNeumann\n`],
    ['empty signature', `${TEXT}\n— PeterNeumann \n`],
    ['signature shorter than 5 bytes', `${TEXT}\n— PeterNeumann AAAAAA==\n`],
    ['unpadded base64', `${TEXT}\n— PeterNeumann ${PETER_B64.slice(0, -1)}\n`],
    ['non-canonical base64 padding bits', `${TEXT}\n— PeterNeumann ${PETER_B64.slice(0, -2)}N=\n`],
    ['two spaces after the name', `${TEXT}\n— PeterNeumann  ${PETER_B64}\n`],
  ])('refuses a malformed note: %s', (_name, note) => {
    const input = typeof note === 'string' ? note : new Uint8Array(note);
    expect(() => openNote(input, PETER_VKEY)).toThrow(MalformedNoteError);
  });

  it('fails on every single-byte change of a signed note', () => {
    const bytes = Buffer.from(`${TEXT}\n${PETER_SIG}`);
    for (let i = 0; i < bytes.length; i++) {
      for (const delta of [1, 0x20, 0x80, 0xff]) {
        const tampered = Uint8Array.from(bytes);
        tampered[i] = (tampered[i]! + delta) & 0xff;
        expect(() => openNote(tampered, PETER_VKEY), `byte ${i} + ${delta}`).toThrow(NoteError);
      }
    }
  });

  it('accepts bytes as well as strings', () => {
    expect(openNote(Buffer.from(`${TEXT}\n${PETER_SIG}`), PETER_VKEY).text).toBe(TEXT);
  });

  it('keeps blank lines inside the text (the signatures start after the last blank line)', () => {
    const key = generateDeviceKey('example.com/log');
    const text = 'first\n\nthird\n\n';
    expect(openNote(signNote(text, key), key.verifierKey).text).toBe(text);
  });

  it('round-trips any valid text', () => {
    const key = generateDeviceKey('example.com/log');
    const verifier = key.verifier();
    const line = fc.string({ unit: 'grapheme' }).filter((s) => ![...s].some((c) => c < ' '));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), (lines) => {
        const text = `${lines.join('\n')}\n`;
        const note = signNote(text, key);
        const opened = openNote(note, verifier);
        expect(opened.text).toBe(text);
        expect(opened.signatures).toHaveLength(1);
      }),
      { numRuns: 200 },
    );
  });
});
