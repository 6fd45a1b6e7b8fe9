import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { findLiveConsoleSession, parseScopes } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import type { FastifyRequest } from 'fastify';
import type { ApiPrincipal } from '../auth/key-authenticator.js';

/** The console's session cookie. */
export const SESSION_COOKIE = 'fp_console';
/** How long a console sign-in lasts (not extended by use): sign in again after it. */
export const CONSOLE_SESSION_TTL_MS = 30 * 60_000;

/** A new session secret (32 random bytes, base64url): only its SHA-256 is stored. */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The CSRF token of a session: derived from the cookie's secret, which a page on another origin cannot
 * read (HttpOnly), so it needs no column of its own. Every console form carries it; a POST without the
 * token of the cookie it arrives with is refused.
 */
export function csrfTokenOf(token: string): string {
  return createHash('sha256').update('fieldproof-console-csrf\n').update(token).digest('base64url');
}

export function csrfMatches(token: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenOf(token));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The session cookie's value in a request, if any. */
export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * `Set-Cookie` for a session: HttpOnly, SameSite=Strict, Path=/ (the console's links to /v1 and /docs
 * carry it), and Secure when the request came over TLS: a TLS socket, or (the api itself speaks plain
 * HTTP) a TLS-terminating proxy's `X-Forwarded-Proto: https`. A forged header can only add Secure, which
 * makes the cookie stricter. `maxAgeSeconds` 0 clears it.
 */
export function sessionCookie(request: FastifyRequest, token: string, maxAgeSeconds: number): string {
  const forwarded = request.headers['x-forwarded-proto'];
  const overTls =
    request.protocol === 'https' ||
    (typeof forwarded === 'string' && forwarded.split(',')[0]!.trim().toLowerCase() === 'https');
  const secure = overTls ? '; Secure' : '';
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`;
}

export interface ConsoleSession {
  readonly token: string;
  readonly principal: ApiPrincipal;
  readonly expiresAt: number;
}

/**
 * Resolves a request's session cookie to the key it was signed in with. Looked up on every request (no
 * cache): a revoked key or an expired session stops working at once.
 */
export class SessionAuthenticator {
  constructor(
    private readonly database: Database,
    private readonly now: () => number,
  ) {}

  async authenticate(request: FastifyRequest): Promise<ConsoleSession | null> {
    const token = sessionTokenOf(request);
    if (token === undefined) return null;
    const row = await findLiveConsoleSession(this.database.db, hashSessionToken(token), this.now());
    if (row === undefined) return null;
    return {
      token,
      principal: { keyId: row.keyId, scopes: parseScopes(row.scopes) },
      expiresAt: row.expiresAt,
    };
  }
}
