import { errors } from '../errors/catalogue.js';

/**
 * The one rule for control characters in text the api accepts, on every intake path (JSON bodies,
 * payloads and metadata included, and query strings) and for both engines: no C0 control but tab, LF and
 * CR. PostgreSQL's TEXT cannot hold U+0000 at all (SQLite can), so without this rule the same request
 * would be stored on one engine and a 500 on the other; the other C0 controls have no place in the text
 * fields (fields with a pattern refuse tab, LF and CR too) and make stored evidence look other than it is
 * when printed (ESC sequences).
 */

/** U+0000–U+0008, U+000B, U+000C, U+000E–U+001F: matching control characters is its purpose. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** Whether the UTF-16 code unit `code` is a forbidden control character. */
export function isForbiddenControl(code: number): boolean {
  return code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
}

/** The first forbidden control character of `text`, as `U+XXXX`, or undefined when there is none. */
export function forbiddenControlIn(text: string): string | undefined {
  const match = FORBIDDEN.exec(text);
  return match === null ? undefined : codePoint(match[0].charCodeAt(0));
}

/** `U+XXXX` of a code unit, for messages. */
export function codePoint(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** FP_CONTROL_CHARACTER for the text at `where` holding `code` (`U+XXXX`). */
export function controlCharacterError(where: string, code: string): Error {
  return new errors.ControlCharacter(
    `${where} holds the control character ${code}; text may hold no control character but tab, LF and CR`,
  );
}
