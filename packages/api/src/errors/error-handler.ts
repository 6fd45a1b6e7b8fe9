import { classifyDbError, isStorageFull } from '@fieldproof/db';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errors, isCatalogued } from './catalogue.js';

// Not `import { STATUS_CODES } from 'node:http'`: on Node 24 an ESM import of node:http builds its whole
// namespace, whose lazy WebSocket/CloseEvent/MessageEvent exports load undici (fetch) — about 10 MB of
// resident memory (issue 13). The CommonJS object leaves them unread.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

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
  if (isStorageFull(err)) {
    return new errors.StorageFull('the server has no storage space left; nothing was stored, retry later');
  }
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return (BY_STATUS[status] ?? ((m: string) => new errors.BadRequest(m)))(String(e.message));
  }
  if (status === 503 || classifyDbError(err) === 'retryable') {
    return new errors.Unavailable('the database is busy or unavailable; retry later');
  }
  return new errors.Internal(`internal error (request ${requestId})`);
}

/**
 * Why a request was not served although the server did nothing wrong. Such requests are logged at info and
 * counted apart (`fieldproof_api_requests_dropped_total{reason}`), not as 5xx:
 * - `client_aborted`: the client closed the connection before its request was received (e.g. an upload
 *   cut off mid-stream); nobody is left to answer;
 * - `shutting_down`: it arrived while the api was stopping and was answered 503 FP_UNAVAILABLE.
 */
export const DROP_REASONS = ['client_aborted', 'shutting_down'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request is dropped for a reason that is no server fault (see DropReason). */
    dropReason: DropReason | null;
  }
}

const DROP_MESSAGES: Readonly<Record<DropReason, string>> = {
  client_aborted: 'client aborted the request',
  shutting_down: 'request refused: the server is shutting down',
};

/** nginx's "client closed request": what the access metrics would show, had we kept it there. */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * The one error handler: catalogued shape, 5xx logged with the cause, never leaked. `onDropped` is told of
 * each request dropped through no fault of the server (metrics).
 */
export function createErrorHandler(onDropped: (request: FastifyRequest, reason: DropReason) => void) {
  return function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const reason = request.dropReason ?? (clientAborted(request) ? 'client_aborted' : null);
    if (reason !== null) {
      request.dropReason = reason;
      onDropped(request, reason);
      if (reason === 'client_aborted') {
        const { message, code } = err as { message?: unknown; code?: unknown };
        request.log.info(
          { method: request.method, url: request.url, cause: { message, code } },
          DROP_MESSAGES[reason],
        );
        return reply.code(CLIENT_CLOSED_REQUEST).send();
      }
    }
    return answer(err, request, reply, reason);
  };
}

/** The client closed the connection before the whole request arrived. */
function clientAborted(request: FastifyRequest): boolean {
  const raw = request.raw;
  // Optional: requests made by `inject` have no real socket.
  return raw.complete !== true && (raw.destroyed === true || raw.socket?.destroyed === true);
}

function answer(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  reason: DropReason | null,
): FastifyReply {
  const coded = toCataloguedError(err, request.id);
  if (reason !== null) {
    request.log.info({ code: coded.code }, DROP_MESSAGES[reason]);
  } else if (coded.statusCode >= 500) {
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
