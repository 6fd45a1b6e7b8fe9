import { STATUS_CODES } from 'node:http';
import { classifyDbError } from '@fieldproof/db';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errors, isCatalogued } from './catalogue.js';

/** The one response shape of every error. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

type CataloguedError = Error & { code: string; statusCode: number };

/** Fastify's own errors, mapped onto the catalogue by their (stable) codes. */
const FASTIFY_CODES: Readonly<Record<string, (message: string) => CataloguedError>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => new errors.MalformedJson('the body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new errors.MalformedJson('the body is empty but the content type is application/json'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new errors.PayloadTooLarge('the body is larger than the limit'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new errors.UnsupportedMediaType('this route does not accept that content type'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new errors.BadRequest('the body size does not match Content-Length'),
  FST_ERR_NOT_FOUND: () => new errors.NotFound('no such route'),
  FST_ERR_BAD_URL: () => new errors.BadRequest('the URL is malformed'),
  FST_ERR_MAX_PARAM_LENGTH: () => new errors.UriTooLong('a path parameter is too long'),
};

/** Client errors fastify or a plugin raised without a code we know, mapped by status. */
const BY_STATUS: Readonly<Record<number, (message: string) => CataloguedError>> = {
  404: (m) => new errors.NotFound(m),
  408: (m) => new errors.RequestTimeout(m),
  413: (m) => new errors.PayloadTooLarge(m),
  414: (m) => new errors.UriTooLong(m),
  415: (m) => new errors.UnsupportedMediaType(m),
  429: (m) => new errors.RateLimited(m),
  503: () => new errors.Unavailable('the service is unavailable; retry later'),
};

/**
 * Turns anything thrown into a catalogued error. Client errors keep their (safe) message; a server error
 * that is not catalogued becomes FP_INTERNAL with a message that names only the request id.
 */
export function toCataloguedError(err: unknown, requestId: string): CataloguedError {
  if (isCatalogued(err)) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation !== undefined) return new errors.Validation(String(e.message));
  const mapped = e.code === undefined ? undefined : FASTIFY_CODES[e.code];
  if (mapped !== undefined) return mapped(String(e.message));
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return (BY_STATUS[status] ?? ((m: string) => new errors.BadRequest(m)))(String(e.message));
  }
  if (status === 503 || classifyDbError(err) === 'retryable') {
    return new errors.Unavailable('the database is busy or unavailable; retry later');
  }
  return new errors.Internal(`internal error (request ${requestId})`);
}

/** The one error handler: catalogued shape, 5xx logged with the cause, never leaked. */
export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const coded = toCataloguedError(err, request.id);
  if (coded.statusCode >= 500) {
    request.log.error({ err, code: coded.code, method: request.method, url: request.url }, 'request failed');
  } else {
    request.log.info({ code: coded.code, reason: coded.message }, 'request rejected');
  }
  if (coded.statusCode === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', '1');
  return reply.code(coded.statusCode).send(errorBody(coded));
}

export function errorBody(err: CataloguedError): ErrorBody {
  return {
    statusCode: err.statusCode,
    code: err.code,
    error: STATUS_CODES[err.statusCode] ?? 'Error',
    message: err.message,
  };
}
