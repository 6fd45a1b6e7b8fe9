import createError from '@fastify/error';

/**
 * Every error the API answers with, declared once. The `code` is the stable contract clients branch on;
 * `docs/API.md` lists the same codes and a test keeps the two equal. Each constructor takes the message:
 * one sentence saying what was wrong with this request (never internals).
 */
function coded<C extends string, S extends number>(code: C, statusCode: S) {
  return createError<C, S, [message: string]>(code, '%s', statusCode);
}

export const errors = {
  /** A body, query string or path parameter failed its JSON schema. */
  Validation: coded('FP_VALIDATION', 400),
  /** The body is not JSON although the content type says so, or is empty. */
  MalformedJson: coded('FP_MALFORMED_JSON', 400),
  /** A request that is well-formed JSON but not a valid combination (e.g. both `digest` and `payload`). */
  BadRequest: coded('FP_BAD_REQUEST', 400),
  /** A `payload` or `metadata` value that has no RFC 8785 canonical form (e.g. a lone surrogate). */
  InvalidJsonValue: coded('FP_INVALID_JSON_VALUE', 400),
  // Input the server would otherwise store changed (http/strict-json.ts, http/strict-query.ts): refused
  // on every intake path — JSON bodies, the query string, the `metadata` of raw uploads.
  /** The body, or a percent-decoded query parameter, is not valid UTF-8. */
  InvalidUtf8: coded('FP_INVALID_UTF8', 400),
  /** The JSON text starts with a byte-order mark (RFC 8259 §8.1: senders must not add one). */
  ByteOrderMark: coded('FP_BYTE_ORDER_MARK', 400),
  /** An object names a member twice, or a query parameter is given twice (RFC 7493 §2.3, RFC 8785). */
  DuplicateKey: coded('FP_DUPLICATE_KEY', 400),
  /** A number an IEEE 754 double cannot hold as written: it would be rounded (RFC 7493 §2.2). */
  InexactNumber: coded('FP_INEXACT_NUMBER', 400),
  /** A `__proto__` key, or a `prototype` key inside a `constructor` object (prototype poisoning). */
  ForbiddenKey: coded('FP_FORBIDDEN_KEY', 400),
  /** JSON nested deeper than the limit (64 levels per value). */
  NestingTooDeep: coded('FP_NESTING_TOO_DEEP', 400),
  /** Text holding U+0000 or another C0 control character other than tab, LF and CR. */
  ControlCharacter: coded('FP_CONTROL_CHARACTER', 400),
  /** The `cursor` is not one this server issued for this list and order. */
  InvalidCursor: coded('FP_INVALID_CURSOR', 400),
  /** A range whose ends are the wrong way round (frequencies, time filters). */
  InvalidRange: coded('FP_INVALID_RANGE', 400),
  /** No, a malformed, an unknown or a revoked API key. */
  Unauthorized: coded('FP_UNAUTHORIZED', 401),
  /** The key lacks the scope the route needs. */
  Forbidden: coded('FP_FORBIDDEN', 403),
  /** No such route or record. */
  NotFound: coded('FP_NOT_FOUND', 404),
  /** The evidence exists but the server holds no content for it (digest-only evidence). */
  ContentNotStored: coded('FP_CONTENT_NOT_STORED', 404),
  /** The client took longer than the request timeout to send its request. */
  RequestTimeout: coded('FP_REQUEST_TIMEOUT', 408),
  /** The same digest is already recorded with different fields. */
  EvidenceConflict: coded('FP_EVIDENCE_CONFLICT', 409),
  /** The same `operationId` is already recorded with different fields. */
  OperationConflict: coded('FP_OPERATION_CONFLICT', 409),
  /** The jamming operation has already ended (with a different end). */
  AlreadyEnded: coded('FP_ALREADY_ENDED', 409),
  /** The body (or streamed content) is larger than the configured limit. */
  PayloadTooLarge: coded('FP_PAYLOAD_TOO_LARGE', 413),
  /** `metadata` is larger than the configured limit. */
  MetadataTooLarge: coded('FP_METADATA_TOO_LARGE', 413),
  /** A path parameter longer than any valid one (fastify's router limit). */
  UriTooLong: coded('FP_URI_TOO_LONG', 414),
  /** The content type is not one this route accepts. */
  UnsupportedMediaType: coded('FP_UNSUPPORTED_MEDIA_TYPE', 415),
  /** `relatedEvidenceId` names evidence that does not exist. */
  UnknownReference: coded('FP_UNKNOWN_REFERENCE', 422),
  /** The streamed bytes do not hash to the `digest` the client stated. */
  DigestMismatch: coded('FP_DIGEST_MISMATCH', 422),
  /** A jamming operation cannot end before it started. */
  EndedBeforeStart: coded('FP_ENDED_BEFORE_START', 422),
  /** The key's (or, before authentication, the client address's) rate limit is exhausted; see Retry-After. */
  RateLimited: coded('FP_RATE_LIMITED', 429),
  /**
   * No space left for the write: the database's disk (SQLITE_FULL, PostgreSQL 53100) or the content
   * store's (ENOSPC). Nothing was stored; retry once space is freed. `/readyz` answers it too meanwhile.
   */
  StorageFull: coded('FP_STORAGE_FULL', 507),
  /** An unexpected server fault. The message never carries internals; the log line has the request id. */
  Internal: coded('FP_INTERNAL', 500),
  /** Load shedding: the event loop lags or too many writes wait for a commit. Retry later. */
  Overloaded: coded('FP_OVERLOADED', 503),
  /** The database is unavailable or the server is shutting down. Retry later. */
  Unavailable: coded('FP_UNAVAILABLE', 503),
  /** Readiness failed: the database is unreachable or not migrated. */
  NotReady: coded('FP_NOT_READY', 503),
  /** The evidence is recorded but not yet in the log: its receipt exists once the keeper sequenced it. */
  NotSequenced: coded('FP_NOT_SEQUENCED', 404),
  /** No signed checkpoint of the requested tree size (or none at all yet). */
  CheckpointNotFound: coded('FP_CHECKPOINT_NOT_FOUND', 404),
} as const;

export type ErrorName = keyof typeof errors;

/** Every catalogued code with its HTTP status (for docs and the docs test). */
export function errorCatalogue(): { code: string; statusCode: number }[] {
  return Object.values(errors).map((ctor) => {
    const e = new ctor('x');
    return { code: e.code, statusCode: e.statusCode };
  });
}

/** True for an error constructed from the catalogue. */
export function isCatalogued(err: unknown): err is Error & { code: string; statusCode: number } {
  return typeof err === 'object' && err !== null && CODES.has((err as { code?: unknown }).code as string);
}

const CODES = new Set(errorCatalogue().map((e) => e.code));
