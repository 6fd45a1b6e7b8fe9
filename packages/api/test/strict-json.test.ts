import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isExactNumber } from '../src/http/exact-number.js';
import { MAX_JSON_DEPTH, parseStrictJson } from '../src/http/strict-json.js';

/** The rules of http/strict-json.ts without a server; the api tests (strict-input.test.ts) hold the routes. */

const parse = (text: string) => parseStrictJson(text, { path: 'body', maxDepth: MAX_JSON_DEPTH });
const codeOf = (text: string) => {
  try {
    parse(text);
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('isExactNumber', () => {
  it('holds every double written in its shortest form (what RFC 8785 writes), and its variants', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = JSON.stringify(x);
        expect(isExactNumber(text)).toBe(true);
        // The same number with a trailing zero in the fraction and as a mantissa and exponent.
        expect(isExactNumber(text.includes('e') ? text : `${text}${text.includes('.') ? '' : '.'}0`)).toBe(
          true,
        );
      }),
    );
  });

  it('refuses a double written with one significant digit more than it holds', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: 1, max: 1e300 }), (x) => {
        const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
        const longer = `${mantissa.includes('.') ? mantissa : `${mantissa}.`}000000000000000000001e${exponent}`;
        expect(isExactNumber(longer)).toBe(false);
      }),
    );
  });

  it.each([
    ['9007199254740991', true],
    ['9007199254740992', true],
    ['9007199254740993', false],
    ['-9007199254740993', false],
    ['123456789012345678901234567890', false],
    ['1e21', true],
    ['1E+21', true],
    ['1.50', true],
    ['-0', true],
    ['0.0e-99999', true],
    ['0.1', true],
    ['1e400', false],
    ['-1e400', false],
    ['1e-400', false],
    ['5e-324', true],
    ['2e-324', false],
    ['1.7976931348623157e308', true],
    ['1.7976931348623159e308', false],
    ['1e-99999999999999999999', false],
  ])('%s → %s', (text, exact) => {
    expect(isExactNumber(text)).toBe(exact);
  });
});

describe('parseStrictJson', () => {
  it.each([
    ['{"a":1,"b":[1,2,{"c":"d"}]}', 'ok'],
    ['{"a":1,"a":1}', 'FP_DUPLICATE_KEY'],
    ['{"a":{"b":1},"c":{"b":1}}', 'ok'],
    ['[{"a":1},{"a":1}]', 'ok'],
    ['{"a\\u0000":1}', 'FP_CONTROL_CHARACTER'],
    ['"\\u001F"', 'FP_CONTROL_CHARACTER'],
    ['"\\f"', 'FP_CONTROL_CHARACTER'],
    ['"\\t\\r\\n\\u0009\\u000a\\u000D\\u007f"', 'ok'],
    ['"\\\\u0000"', 'ok'],
    ['{"__proto__":1}', 'FP_FORBIDDEN_KEY'],
    ['{"\\u005f_proto__":1}', 'FP_FORBIDDEN_KEY'],
    ['{"constructor":{"prototype":1}}', 'FP_FORBIDDEN_KEY'],
    ['{"constructor":[{"prototype":1}]}', 'ok'],
    ['{"x":{"prototype":1}}', 'ok'],
    ['\ufeff{}', 'FP_BYTE_ORDER_MARK'],
    ['{"a":1,}', 'FP_MALFORMED_JSON'],
    ['[1e400]', 'FP_INEXACT_NUMBER'],
    [`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`, 'ok'],
    [`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, 'FP_NESTING_TOO_DEEP'],
    [`${'['.repeat(500_000)}${']'.repeat(500_000)}`, 'FP_NESTING_TOO_DEEP'],
  ])('%s → %s', (text, code) => {
    expect(codeOf(text)).toBe(code);
  });

  it('names the path of the offending value, as a JSON Pointer', () => {
    expect(() => parse('{"a/b":[0,{"c~":[1,"\\u0000"]}]}')).toThrow(
      'body/a~1b/1/c~0/1 holds the control character U+0000',
    );
    expect(() => parse('{"x":[1,2,{"k":1,"k":2}]}')).toThrow('body/x/2/k is given twice');
    expect(() => parse('{"a/b":[0,{"c~":[1,1e400]}]}')).toThrow('body/a~1b/1/c~0/1: 1e400 cannot be held');
  });

  it('returns what JSON.parse returns', () => {
    const text = '{"a":[1,2.5,"é",null,true],"b":{"c":-0}}';
    expect(parse(text)).toEqual(JSON.parse(text));
  });
});
