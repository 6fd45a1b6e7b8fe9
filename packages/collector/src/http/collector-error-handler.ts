import { errorBody, toCataloguedError } from '@fieldproof/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isCollectorError } from './collector-errors.js';

/**
 * The collector's one error handler: its own catalogued errors as they are, everything else mapped as the
 * api maps it (so a 500 never leaks internals and every body is {statusCode, code, error, message}).
 */
export function collectorErrorHandler(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const coded = isCollectorError(err) ? err : toCataloguedError(err, request.id);
  if (coded.statusCode >= 500) {
    request.log.error({ err, code: coded.code, method: request.method, url: request.url }, 'request failed');
  } else if (coded.code !== 'FP_EQUIVOCATION') {
    request.log.info({ code: coded.code, reason: coded.message }, 'request rejected');
  }
  if (coded.statusCode === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', '1');
  return reply.code(coded.statusCode).send(errorBody(coded));
}
