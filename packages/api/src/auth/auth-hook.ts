import { hasScope } from '@fieldproof/db';
import type { ApiScope } from '@fieldproof/db';
import type { FastifyRequest } from 'fastify';
import { errors } from '../errors/catalogue.js';
import type { SessionAuthenticator } from '../console/console-session.js';
import type { ApiPrincipal, KeyAuthenticator } from './key-authenticator.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; `none` for the open probes. Unset: read for GET/HEAD, write otherwise. */
    scope?: ApiScope | 'none';
  }
  interface FastifyRequest {
    /** The authenticated key, set by the auth hook (null on open routes). */
    principal: ApiPrincipal | null;
  }
}

/**
 * The onRequest hook that guards every route but the open probes: `Authorization: Bearer fp_…`, a live
 * key (401 otherwise) with the route's scope (403 otherwise). It runs before the body is read, so an
 * unauthenticated upload is refused without receiving it.
 *
 * Without an Authorization header, a GET or HEAD may instead carry the console's session cookie
 * (docs/CONSOLE.md): a browser signed in at /console opens /docs and the console's links to /v1 routes
 * with the scopes of the key it signed in with. Never for other methods: writes need the bearer key
 * (the console's own actions check its CSRF token).
 */
export function createAuthHook(authenticator: KeyAuthenticator, sessions?: SessionAuthenticator) {
  return async function authHook(request: FastifyRequest): Promise<void> {
    const configured = request.routeOptions.config.scope;
    if (configured === 'none') return;
    const needed: ApiScope =
      configured ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    const header = request.headers.authorization;
    if (header === undefined) {
      const session =
        sessions !== undefined && (request.method === 'GET' || request.method === 'HEAD')
          ? await sessions.authenticate(request)
          : null;
      if (session === null) {
        throw new errors.Unauthorized(
          'missing Authorization: Bearer <api key> (create one with fieldproof keys create; in a browser, sign in at /console)',
        );
      }
      request.principal = session.principal;
      return checkScope(session.principal, needed);
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (match === null) throw new errors.Unauthorized('the Authorization header must be "Bearer <api key>"');
    const principal = await authenticator.authenticate(match[1]!);
    if (principal === null) throw new errors.Unauthorized('unknown or revoked API key');
    request.principal = principal;
    checkScope(principal, needed);
  };
}

function checkScope(principal: ApiPrincipal, needed: ApiScope): void {
  if (!hasScope(principal.scopes, needed)) {
    throw new errors.Forbidden(
      `this route needs the ${needed} scope; the key has ${principal.scopes.join(', ')}`,
    );
  }
}
