import { errors } from '../errors/catalogue.js';
import { codePoint, controlCharacterError, isForbiddenControl } from './control-characters.js';
import { isExactNumber } from './exact-number.js';

/** How deep a JSON value (a payload, metadata) may nest: `[]` is one level, `[[]]` two. */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * UTF-8 bytes as text, refusing what is not UTF-8 (FP_INVALID_UTF8) instead of substituting U+FFFD.
 * A byte-order mark is kept, as U+FEFF, for `parseStrictJson` to refuse.
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new errors.InvalidUtf8(`${what} is not valid UTF-8`);
  }
}

/**
 * A request body sent as application/json: UTF-8 (decodeUtf8), then parseStrictJson. The body's own
 * object is one level more than the values it carries (payload, metadata), which may nest MAX_JSON_DEPTH.
 */
export function parseJsonBody(bytes: Uint8Array): unknown {
  if (bytes.length === 0) {
    throw new errors.MalformedJson('the body is empty but the content type is application/json');
  }
  return parseStrictJson(decodeUtf8(bytes, 'the body'), { path: 'body', maxDepth: 1 + MAX_JSON_DEPTH });
}

export interface StrictJsonOptions {
  /** Where the text came from, for messages and as the root of paths: `body`, `querystring/metadata`. */
  readonly path: string;
  /** Containers allowed around the deepest value: MAX_JSON_DEPTH, plus one for a request body's envelope. */
  readonly maxDepth: number;
}

/**
 * Parses JSON text, refusing — never repairing — what JSON.parse would accept but silently change or what
 * the api must not store, each with its own code and the path of the offending value:
 * a byte-order mark, a duplicate member name (JSON.parse keeps the last), a number a double cannot hold
 * exactly (JSON.parse rounds it), a `__proto__` key or `constructor.prototype`, nesting deeper than
 * `maxDepth`, and control characters (control-characters.ts) in any string or key.
 *
 * The parsing is V8's JSON.parse (strict RFC 8259, and iterative: no stack overflow however deep). The
 * rest is one pass over the text JSON.parse accepted. Libraries were weighed for it: secure-json-parse
 * (what fastify uses) checks only the prototype keys; lossless-json reports duplicate names only when
 * their values differ and recurses (a deep body overflows the stack); jsonc-parser and @humanwhocodes/momoa
 * are tolerant or AST-building parsers that would tokenize every body a second time in JavaScript.
 */
export function parseStrictJson(text: string, options: StrictJsonOptions): unknown {
  if (text.charCodeAt(0) === 0xfeff) {
    throw new errors.ByteOrderMark(
      `${options.path} starts with a byte-order mark (U+FEFF); send JSON without one`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new errors.MalformedJson(`${options.path} is not valid JSON (${(err as Error).message})`);
  }
  checkJsonText(text, options);
  return value;
}

/** One open object or array while scanning. */
interface Frame {
  /** Object: the member names seen so far; undefined for an array. */
  readonly keys: Set<string> | undefined;
  /** Object: the current member's name; array: the current index. */
  at: string | number;
  /** Object: the next string is a member name (after `{` and `,`). */
  expectKey: boolean;
  /** This object is the value of a `constructor` member (so a `prototype` member in it is refused). */
  readonly inConstructor: boolean;
}

/**
 * The checks of `parseStrictJson` beyond JSON.parse. Precondition: JSON.parse accepted `text` — so every
 * string is well-formed and control characters can only appear escaped (`\u0000`, `\b`, `\f`).
 */
function checkJsonText(text: string, options: StrictJsonOptions): void {
  const stack: Frame[] = [];
  const pathOf = (limit = Infinity) => pathText(options.path, stack, limit);
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length === options.maxDepth) {
        throw new errors.NestingTooDeep(
          `${pathOf(6)} is nested too deeply: a JSON value may nest at most ${MAX_JSON_DEPTH} levels`,
        );
      }
      const parent = stack[stack.length - 1];
      const object = c === 0x7b;
      stack.push({
        keys: object ? new Set() : undefined,
        at: object ? '' : 0,
        expectKey: object,
        inConstructor: parent?.keys !== undefined && parent.at === 'constructor',
      });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1]!;
      if (top.keys === undefined) top.at = (top.at as number) + 1;
      else top.expectKey = true;
      i++;
    } else if (c === 0x22 /* " */) {
      i = checkString(i);
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      while (end < n && isNumberChar(text.charCodeAt(end))) end++;
      const raw = text.slice(i, end);
      if (!isExactNumber(raw)) {
        throw new errors.InexactNumber(
          `${pathOf()}: ${clip(raw)} cannot be held exactly by an IEEE 754 double (it would be stored as ` +
            `${clip(String(Number(raw)))}); send it as a string`,
        );
      }
      i = end;
    } else {
      i++; // whitespace, ':', or a letter of true/false/null
    }
  }

  /** Checks the string starting at `start` (its opening quote); returns the index after its closing quote. */
  function checkString(start: number): number {
    let j = start + 1;
    let escaped = false;
    let control: number | undefined;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c !== 0x5c /* \ */) {
        j++;
        continue;
      }
      escaped = true;
      const e = text.charCodeAt(j + 1);
      if (e === 0x75 /* u */) {
        const code = Number.parseInt(text.slice(j + 2, j + 6), 16);
        if (control === undefined && isForbiddenControl(code)) control = code;
        j += 6;
      } else {
        if (control === undefined && e === 0x62 /* b */) control = 0x08;
        if (control === undefined && e === 0x66 /* f */) control = 0x0c;
        j += 2;
      }
    }
    const top = stack[stack.length - 1];
    if (top?.keys !== undefined && top.expectKey) {
      const key = escaped ? (JSON.parse(text.slice(start, j + 1)) as string) : text.slice(start + 1, j);
      checkKey(top, key, control);
    } else if (control !== undefined) {
      throw controlCharacterError(pathOf(), codePoint(control));
    }
    return j + 1;
  }

  function checkKey(top: Frame, key: string, control: number | undefined): void {
    top.expectKey = false;
    if (control !== undefined) {
      throw controlCharacterError(
        `a member name in ${pathText(options.path, stack.slice(0, -1), Infinity)}`,
        codePoint(control),
      );
    }
    top.at = key;
    if (key === '__proto__' || (key === 'prototype' && top.inConstructor)) {
      throw new errors.ForbiddenKey(
        `${pathOf()}: the member name ${key} is not allowed (prototype poisoning)`,
      );
    }
    if (top.keys!.has(key)) {
      throw new errors.DuplicateKey(`${pathOf()} is given twice; member names must be unique (RFC 8785)`);
    }
    top.keys!.add(key);
  }
}

/** `-`, `+`, `.`, digits, `e`, `E`: the characters of a JSON number. */
function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

/**
 * `root/a/0/b`: the JSON Pointer (RFC 6901) of the current value under `root`, as ajv names fields in its
 * messages. At most `limit` segments (then `…`), for the messages about very deep values.
 */
function pathText(root: string, stack: readonly Frame[], limit: number): string {
  let path = root;
  for (let k = 0; k < stack.length; k++) {
    if (k === limit) return `${path}/…`;
    const at = stack[k]!.at;
    path += `/${typeof at === 'number' ? at : at.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  }
  return path;
}

function clip(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 37)}...`;
}
