import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { errors } from '../errors/catalogue.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: the route answers while the api sheds load (the probes). */
    loadShedding?: false;
  }
}

/**
 * The onRequest hook that sheds load: while `eventLoopDelay()` reads more than `maxMs`, every route but
 * those configured `loadShedding: false` answers 503 FP_OVERLOADED with `retry-after: 1`. The source is
 * read on every request, so what it says now is what the next request gets. In production it is
 * @fastify/under-pressure's sample (build-app.ts); tests set it.
 */
export function createLoadSheddingHook(eventLoopDelay: () => number, maxMs: number) {
  return function shedLoad(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    if (request.routeOptions.config.loadShedding !== false && eventLoopDelay() > maxMs) {
      void reply.header('retry-after', '1');
      return done(new errors.Overloaded('the server is overloaded (eventLoopDelay); retry later'));
    }
    done();
  };
}
