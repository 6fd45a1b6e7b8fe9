import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * A route's fastify generics derived from its schema (json-schema-to-ts): the handler is typed with what
 * the schema admits, so the two cannot drift. `app.get<RouteTypes<typeof schema>>(url, { schema }, …)`;
 * a part without a schema stays `unknown`. Types only: nothing of json-schema-to-ts is loaded at run time.
 */
export interface RouteTypes<S> {
  Params: S extends { readonly params: infer P extends JSONSchema } ? FromSchema<P> : unknown;
  Querystring: S extends { readonly querystring: infer Q extends JSONSchema } ? FromSchema<Q> : unknown;
  Body: S extends { readonly body: infer B extends JSONSchema } ? FromSchema<B> : unknown;
}

/**
 * JSON-schema building blocks shared by the routes. Every object schema is closed
 * (`additionalProperties: false`): an unknown field is a 400, never silently dropped.
 */

/** Unix milliseconds: a non-negative integer no later than the year 9999. */
/** A JSON-schema type that also admits null (response fields that may be empty). */
export const nullable = <T extends 'integer' | 'number' | 'string' | 'array'>(type: T) =>
  ({ type: [type, 'null'] }) as const;

export const millis = {
  type: 'integer',
  minimum: 0,
  maximum: 253_402_300_799_999,
  description: 'Unix time in milliseconds',
} as const;

/** A record id: a lowercase canonical UUID (the server issues UUIDv7). */
export const idSchema = {
  type: 'string',
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'lowercase UUID',
} as const;

/** For routes that take no query parameters: any is an unknown field (400). */
export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

export const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: idSchema },
} as const;
/** The `:id` route parameter, as idParams admits it. */
export type IdParams = FromSchema<typeof idParams>;

/** SHA-256 as 64 hex digits; uppercase is accepted and normalised to lowercase. */
export const digestInput = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{64}$',
  description: 'SHA-256, 64 hex digits (uppercase is normalised to lowercase)',
} as const;

export const digestOutput = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

/** Short identifiers chosen by clients (kinds, types). */
export const kindSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$',
  description: '1-64 characters: letters, digits and . _ : / - (starting with a letter or digit)',
} as const;

/** A frequency in Hz, up to 1 THz: far beyond radio, well inside a safe integer. */
export const hertz = { type: 'integer', minimum: 0, maximum: 1_000_000_000_000 } as const;

/**
 * The schema of a record as the api returns it: a closed object whose every property is present (an
 * empty one is null), so `required` is the property list itself rather than a second copy of it.
 */
export function viewObject<const P extends Record<string, JSONSchema>>(properties: P) {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties) as Extract<keyof P, string>[],
    properties,
  } as const;
}

export const operationIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[\\x21-\\x7e]+$',
  description: "the client's id for the operation, 1-128 printable ASCII characters; unique per record type",
} as const;

export function text(maxLength: number, description?: string) {
  return {
    type: 'string',
    minLength: 1,
    maxLength,
    ...(description === undefined ? {} : { description }),
  } as const;
}

/** RFC 9110 §5.6.2 token characters. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** RFC 9110 §5.6.4 quoted-string, visible ASCII and space only (no tab, no obs-text). */
const QUOTED = '"(?:[ !#-\\[\\]-~]|\\\\[ -~])*"';
/** RFC 6838 §4.2 restricted-name: a type or subtype. */
const NAME = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*';

/**
 * A media type (RFC 9110 §8.3.1): `type/subtype` and `; name=value` parameters, value a token or a quoted
 * string; visible ASCII and spaces only. Node refuses a Content-Type header holding CR, LF, NUL or a
 * character past U+00FF, so anything wider could be stored yet never served.
 */
export const MEDIA_TYPE_PATTERN = `^${NAME}/${NAME}( *; *${TOKEN}=(${TOKEN}|${QUOTED}))*$`;

/** A MIME type such as `image/jpeg` or `text/plain; charset=utf-8`. */
export const mimeSchema = {
  type: 'string',
  maxLength: 255,
  pattern: MEDIA_TYPE_PATTERN,
  description: 'MIME type (RFC 9110 media type, visible ASCII), e.g. image/jpeg',
} as const;

const MEDIA_TYPE = new RegExp(MEDIA_TYPE_PATTERN, 'u');

/** Whether `value` passes `mimeSchema`, so it can be sent as a Content-Type. */
export function isMediaType(value: string): boolean {
  return value.length <= mimeSchema.maxLength && MEDIA_TYPE.test(value);
}

/** A free-form JSON object (canonicalised and size-limited by the server). */
export const metadataInput = {
  type: 'object',
  description: 'free-form JSON object, stored in RFC 8785 canonical form; size-limited',
} as const;

export const limitQuery = {
  type: 'integer',
  minimum: 1,
  maximum: 500,
  default: 50,
  description: 'page size (1-500, default 50)',
} as const;

export const cursorQuery = {
  type: 'string',
  minLength: 1,
  maxLength: 512,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'opaque cursor from the previous page (nextCursor)',
} as const;

export const orderQuery = {
  type: 'string',
  enum: ['asc', 'desc'],
  default: 'asc',
  description: 'sort order (default asc: oldest first)',
} as const;

/**
 * The query string of a cursor-paginated list: page size, cursor and order, then the list's own filters
 * (`properties`); closed like every other object schema.
 */
export function pageQuery<const P extends Record<string, JSONSchema>>(properties: P) {
  return {
    type: 'object',
    additionalProperties: false,
    properties: { limit: limitQuery, cursor: cursorQuery, order: orderQuery, ...properties },
  } as const;
}

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  additionalProperties: false,
  required: ['statusCode', 'code', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string', description: 'stable error code, see docs/API.md' },
    error: { type: 'string', description: 'HTTP reason phrase' },
    message: { type: 'string', description: 'what was wrong, for humans' },
  },
} as const;

/** Error responses every authenticated route can give. */
export const errorResponses = {
  '4xx': { $ref: 'Error#' },
  '5xx': { $ref: 'Error#' },
} as const;

/** A page of a list: `nextCursor` is null on the last page. */
export function pageSchema(item: object) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['items', 'nextCursor'],
    properties: {
      items: { type: 'array', items: item },
      nextCursor: { type: ['string', 'null'] },
    },
  } as const;
}
