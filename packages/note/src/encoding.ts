/**
 * Small, strict text helpers shared by the note, checkpoint and key parsers.
 *
 * Strictness matters here: a lenient base64 decoder (Node's `Buffer.from(s, 'base64')` skips invalid
 * characters and ignores non-zero padding bits) would let two different texts mean the same bytes, and
 * a tamper-evident format must not have that.
 */

import { base64Decode, base64Encode } from './platform.js';

const BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 (RFC 4648 §4, padded). */
export function encodeBase64(bytes: Uint8Array): string {
  return base64Encode(bytes);
}

/**
 * Decodes standard padded base64, or returns `undefined` when `text` is not the one canonical
 * encoding of some byte string (bad characters, missing padding, non-zero padding bits).
 */
export function decodeBase64Strict(text: string): Uint8Array | undefined {
  if (!BASE64_SHAPE.test(text)) return undefined;
  const bytes = base64Decode(text);
  if (base64Encode(bytes) !== text) return undefined;
  return bytes;
}

const UTF8 = new TextEncoder();
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return UTF8.encode(text);
}

/** Decodes UTF-8, or returns `undefined` for ill-formed input. A leading BOM is kept, not stripped. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return UTF8_STRICT.decode(bytes);
  } catch {
    return undefined;
  }
}

// A lone surrogate cannot be encoded as UTF-8, so a string holding one is not valid note text.
const LONE_SURROGATE = /\p{Surrogate}/u;
/** Whether `text` holds an ASCII control character other than newline (forbidden anywhere in a note). */
function hasControlExceptNewline(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
  }
  return false;
}

/** Why `text` cannot appear in a signed note, or `undefined` if it can. */
export function noteTextProblem(text: string): string | undefined {
  if (LONE_SURROGATE.test(text)) return 'text is not valid UTF-8 (lone surrogate)';
  if (hasControlExceptNewline(text)) return 'text contains an ASCII control character other than newline';
  return undefined;
}

// Unicode White_Space is exactly Go's unicode.IsSpace, which golang.org/x/mod/sumdb/note uses.
const SPACE_OR_PLUS = /[\p{White_Space}+]/u;

/**
 * C2SP key names: non-empty, valid UTF-8, no Unicode spaces, no `+`. Control characters are refused
 * too: they could never appear in a signature line.
 */
export function isValidKeyName(name: string): boolean {
  return (
    name.length > 0 &&
    !SPACE_OR_PLUS.test(name) &&
    !LONE_SURROGATE.test(name) &&
    !hasControlExceptNewline(name)
  );
}

/**
 * Splits `text` at its first `count` occurrences of `separator`: returns `count + 1` parts, or
 * `undefined` when there are fewer separators. (Base64 key fields may themselves contain `+`.)
 */
export function splitFirst(text: string, separator: string, count: number): string[] | undefined {
  const parts: string[] = [];
  let rest = text;
  for (let i = 0; i < count; i++) {
    const at = rest.indexOf(separator);
    if (at < 0) return undefined;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + separator.length);
  }
  parts.push(rest);
  return parts;
}
