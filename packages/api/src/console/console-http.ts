import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSS } from './html.js';

/**
 * The HTTP side every console page shares, the unit's and the collector's: its content security policy,
 * how a page is sent, the form posts it accepts and the redirect back to the console after a sign-in or
 * sign-out.
 */

/** A CSP source for exactly this inline text. */
export function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/**
 * The console's content security policy: only its own style (and whatever `extra` directives allow, e.g.
 * the verifier's script) runs; nothing from elsewhere, no injected inline code, no framing.
 */
export function consoleCsp(extra: readonly string[] = []): string {
  return [
    "default-src 'none'",
    `style-src ${sha256Source(CSS)}`,
    ...extra,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Sends a console page (never cached, under `csp`). */
export function sendPage(reply: FastifyReply, csp: string, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', csp)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .send(body);
}

/** HTML forms post application/x-www-form-urlencoded: parsed in the console's plugin only. */
export function acceptFormPosts(app: FastifyInstance): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
}

/** A text field of a form post, or undefined. */
export function formField(request: FastifyRequest, name: string): string | undefined {
  const body = request.body as Record<string, unknown> | null | undefined;
  const value = body?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** 303 back to the console, setting (or, with an empty value and max-age 0, clearing) the session cookie. */
export function redirectToConsole(reply: FastifyReply, setCookie: string): FastifyReply {
  return reply.code(303).header('set-cookie', setCookie).header('location', '/console').send();
}
