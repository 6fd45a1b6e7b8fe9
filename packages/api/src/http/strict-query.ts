import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { errors } from '../errors/catalogue.js';
import { controlCharacterError, forbiddenControlIn } from './control-characters.js';

/** Where a refused query string keeps its error until the preValidation hook raises it. */
const PROBLEM = Symbol('query string problem');

type ParsedQuery = Record<string, string> & { [PROBLEM]?: Error };

/**
 * The api's query-string parser (fastify's `routerOptions.querystringParser`): the rules of the JSON
 * intake (http/strict-json.ts) for the query string. A percent-encoding that is not UTF-8 is
 * FP_INVALID_UTF8 (the default parser kept the encoded text instead, so `%FF` arrived as the three
 * characters `%FF`); a name given twice is FP_DUPLICATE_KEY (no route takes a list); a control character
 * (control-characters.ts) is FP_CONTROL_CHARACTER.
 *
 * It runs while routing, where a throw would escape fastify's error handling, so a refused query string
 * parses to an empty object carrying the error, and `refuseBadQuery` (a preValidation hook: after
 * authentication, before the schema) raises it.
 */
export function parseQueryString(query: string): Record<string, string> {
  const parsed = Object.create(null) as ParsedQuery;
  if (query.length === 0) return parsed;
  try {
    for (const pair of query.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), 'a query parameter name');
      const where = `querystring/${name}`;
      const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1), where);
      const control = forbiddenControlIn(name) ?? forbiddenControlIn(value);
      if (control !== undefined) throw controlCharacterError(where, control);
      if (name in parsed) throw new errors.DuplicateKey(`${where} is given twice`);
      parsed[name] = value;
    }
  } catch (err) {
    const refused = Object.create(null) as ParsedQuery;
    refused[PROBLEM] = err as Error;
    return refused;
  }
  return parsed;
}

/** preValidation hook: the error `parseQueryString` kept, if any. */
export function refuseBadQuery(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const problem = (request.query as ParsedQuery | undefined)?.[PROBLEM];
  if (problem === undefined) done();
  else done(problem);
}

const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** `application/x-www-form-urlencoded` decoding (`+` is a space), refusing what is not UTF-8. */
function decodeComponent(text: string, where: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    if (MALFORMED_ESCAPE.test(text)) throw new errors.BadRequest(`${where} has a malformed percent-encoding`);
    throw new errors.InvalidUtf8(`${where} is not valid UTF-8 once percent-decoded`);
  }
}
