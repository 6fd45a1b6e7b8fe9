import {
  deleteConsoleSession,
  deleteExpiredConsoleSessions,
  findActiveApiKeyByHash,
  hasScope,
  hashApiKey,
  insertConsoleSession,
  isApiKeySecret,
  parseScopes,
  requeueDeadAnchorJob,
} from '@fieldproof/db';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { errors } from '../errors/catalogue.js';
import { unitStatus } from '../status/unit-status.js';
import {
  acceptFormPosts,
  consoleCsp,
  formField,
  redirectToConsole,
  sendPage,
  sha256Source,
} from './console-http.js';
import { consolePage, signInPage, verifierPage } from './console-page.js';
import {
  CONSOLE_SESSION_TTL_MS,
  SessionAuthenticator,
  csrfMatches,
  csrfTokenOf,
  hashSessionToken,
  newSessionToken,
  sessionCookie,
} from './console-session.js';
import { loadVerifierBundle } from './verifier-html.js';

/** Console routes answer pages and form posts, not the JSON API: kept out of the OpenAPI document. */
const open = { scope: 'none' } as const;
const hidden = { hide: true } as const;

/** How long the console waits for the keeper's health server before showing it unreachable. */
const KEEPER_PROBE_TIMEOUT_MS = 1500;

/**
 * The operator console (docs/CONSOLE.md): GET /console (sign-in form, or the panels once signed in),
 * POST /console/session (an API key for a session cookie), POST /console/session/delete (sign out),
 * POST /console/anchors/:id/retry (admin + CSRF: re-queue a dead-lettered job, as `fieldproof anchors
 * retry`), GET /console/verifier (the in-browser verifier alone, public: it holds no unit data), and
 * GET /v1/status (the same numbers as JSON, scope read).
 */
export async function consoleRoutes(app: FastifyInstance, ctx: AppContext, sessions: SessionAuthenticator) {
  const { database, config, now } = ctx;
  const db = database.db;
  const bundle = loadVerifierBundle();
  // The page's own style and the verifier's script run; its images are inline data.
  const csp = consoleCsp([
    ...(bundle === undefined ? [] : [`script-src ${sha256Source(bundle)}`]),
    "img-src 'self' data:",
  ]);
  const html = (reply: FastifyReply, status: number, body: string) => sendPage(reply, csp, status, body);
  acceptFormPosts(app);

  const status = () =>
    unitStatus({ config, database, now: now(), probeKeeper: true, probeTimeoutMs: KEEPER_PROBE_TIMEOUT_MS });

  app.get<{ Querystring: { notice?: string } }>(
    '/console',
    {
      schema: {
        ...hidden,
        querystring: { type: 'object', properties: { notice: { type: 'string', maxLength: 300 } } },
      },
      config: open,
    },
    async (request, reply) => {
      const session = await sessions.authenticate(request);
      if (session === null) return html(reply, 200, signInPage());
      const notice = request.query.notice;
      return html(
        reply,
        200,
        consolePage(
          await status(),
          {
            keyId: session.principal.keyId,
            admin: hasScope(session.principal.scopes, 'admin'),
            csrf: csrfTokenOf(session.token),
            ...(notice !== undefined ? { notice } : {}),
          },
          bundle,
        ),
      );
    },
  );

  app.get('/console/verifier', { schema: hidden, config: open }, async (_request, reply) =>
    html(reply, 200, verifierPage(bundle)),
  );

  app.post<{ Body: Record<string, string> }>(
    '/console/session',
    { schema: hidden, config: open },
    async (request, reply) => {
      const key = formField(request, 'key')?.trim();
      if (key === undefined || key === '') return html(reply, 400, signInPage('Enter an API key.'));
      const row = isApiKeySecret(key) ? await findActiveApiKeyByHash(db, hashApiKey(key)) : undefined;
      if (row === undefined) return html(reply, 401, signInPage('Unknown or revoked API key.'));
      const scopes = parseScopes(row.scopes);
      if (!hasScope(scopes, 'read')) {
        return html(
          reply,
          403,
          signInPage(`The console needs a key with the read scope; this one has ${scopes.join(', ')}.`),
        );
      }
      const at = now();
      await deleteExpiredConsoleSessions(db, at);
      const token = newSessionToken();
      await insertConsoleSession(db, {
        tokenHash: hashSessionToken(token),
        keyId: row.id,
        createdAt: at,
        expiresAt: at + CONSOLE_SESSION_TTL_MS,
      });
      request.log.info({ keyId: row.id }, 'console sign-in');
      return redirectToConsole(reply, sessionCookie(request, token, CONSOLE_SESSION_TTL_MS / 1000));
    },
  );

  /** The session of a console form post, with its CSRF token checked (403 otherwise). */
  async function formSession(request: FastifyRequest) {
    const session = await sessions.authenticate(request);
    if (session === null)
      throw new errors.Unauthorized('not signed in to the console (or the session expired)');
    if (!csrfMatches(session.token, formField(request, 'csrf'))) {
      throw new errors.Forbidden('missing or wrong CSRF token: reload the console and try again');
    }
    return session;
  }

  app.post('/console/session/delete', { schema: hidden, config: open }, async (request, reply) => {
    const session = await formSession(request);
    await deleteConsoleSession(db, hashSessionToken(session.token));
    return redirectToConsole(reply, sessionCookie(request, '', 0));
  });

  app.post<{ Params: { id: string } }>(
    '/console/anchors/:id/retry',
    { schema: hidden, config: open },
    async (request, reply) => {
      const session = await formSession(request);
      if (!hasScope(session.principal.scopes, 'admin')) {
        throw new errors.Forbidden(
          `retrying a job needs the admin scope; the key has ${session.principal.scopes.join(', ')}`,
        );
      }
      const { id } = request.params;
      // The code behind `fieldproof anchors retry`.
      const result = await requeueDeadAnchorJob(db, id, now());
      let notice: string;
      if (result.outcome === 'unknown') notice = `No anchor job ${id}.`;
      else if (result.outcome === 'not-dead')
        notice = `Job ${id} is ${result.job.state}, not dead: only a dead-lettered job can be retried.`;
      else {
        notice = `Re-queued anchor job ${id} (chain ${result.job.chain}, tree size ${result.job.tree_size}); the keeper takes it on its next poll.`;
        request.log.info({ keyId: session.principal.keyId, job: id }, 'console: dead anchor job re-queued');
      }
      return reply
        .code(303)
        .header('location', `/console?notice=${encodeURIComponent(notice)}`)
        .send();
    },
  );

  app.get(
    '/v1/status',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Everything the console shows, as JSON: records and rates, outbox, checkpoint, collectors, keeper, ' +
          'signer, disk, backup, clock, and what needs attention (docs/CONSOLE.md)',
      },
      config: { scope: 'read' },
    },
    async () => status(),
  );
}
