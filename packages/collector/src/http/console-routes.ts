import {
  CONSOLE_SESSION_TTL_MS,
  acceptFormPosts,
  age,
  consoleCsp,
  csrfMatches,
  csrfTokenOf,
  esc,
  formField,
  hashApiKey,
  hashSessionToken,
  isApiKeySecret,
  newSessionToken,
  num,
  page,
  redirectToConsole,
  sendPage,
  sessionCookie,
  sessionTokenOf,
} from '@fieldproof/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  deleteCollectorSession,
  fleetActivity,
  findActiveOperatorKeyByHash,
  findLiveCollectorSession,
  insertCollectorSession,
} from '../db/console.js';
import { listDevices } from '../db/devices.js';
import type { CollectorContext } from './collector-context.js';
import { errors } from './collector-errors.js';

/** A unit that has not pushed for longer than this is shown as lagging. */
const LAG_WARN_MS = 3_600_000;

/**
 * The collector's console (docs/CONSOLE.md): every enrolled unit with its mirrored tree size, last push,
 * lag and equivocations. Sign-in with an operator key (`fieldproof devices console-key`) for a session
 * cookie, as on a unit's console.
 */
export async function collectorConsoleRoutes(app: FastifyInstance, ctx: CollectorContext): Promise<void> {
  const db = ctx.collector.db;
  const csp = consoleCsp();
  const html = (reply: FastifyReply, status: number, body: string) => sendPage(reply, csp, status, body);
  acceptFormPosts(app);

  async function session(request: FastifyRequest) {
    const token = sessionTokenOf(request);
    if (token === undefined) return null;
    const row = await findLiveCollectorSession(db, hashSessionToken(token), ctx.now());
    return row === undefined ? null : { token, keyId: row.key_id };
  }

  const signIn = (message?: string) =>
    page(
      'fieldproof collector console — sign in',
      `<header><h1>fieldproof collector console</h1></header><main><section><h2>Sign in</h2>${
        message === undefined ? '' : `<p class="bad" role="alert">${esc(message)}</p>`
      }<form method="post" action="/console/session"><label for="key">Operator key</label><input id="key" name="key" type="password" autocomplete="current-password" required><p><button type="submit">Sign in</button></p></form>
<p class="mute">Create one on the collector with <code>fieldproof devices console-key</code>. The session lasts 30 minutes; revoking the key ends it.</p></section></main>`,
    );

  app.get('/console', async (request, reply) => {
    const s = await session(request);
    if (s === null) return html(reply, 200, signIn());
    const at = ctx.now();
    const [devices, activity] = await Promise.all([listDevices(db), fleetActivity(db)]);
    const rows = devices
      .map((d) => {
        const origin = encodeURIComponent(d.origin);
        const last = activity.lastPushAt.get(d.id);
        const lag = last === undefined ? undefined : Math.max(0, at - last);
        const forks = activity.equivocations.get(d.id) ?? 0;
        return `<tr data-origin="${esc(d.origin)}"><td class="wrap">${esc(d.origin)}${d.label === null ? '' : `<br><span class="mute">${esc(d.label)}</span>`}${
          d.revoked_at === null ? '' : '<br><span class="bad">revoked</span>'
        }</td><td>${num(`devices.${d.origin}.treeSize`, Number(d.tree_size), `/v1/devices/${origin}/equivocations`)}</td><td>${
          last === undefined ? '<span class="mute">never</span>' : esc(new Date(last).toISOString())
        }</td><td class="${lag !== undefined && lag > LAG_WARN_MS ? 'bad' : ''}">${lag === undefined ? '' : esc(age(lag))}</td><td class="${forks > 0 ? 'bad' : ''}">${num(
          `devices.${d.origin}.equivocations`,
          forks,
          `/v1/devices/${origin}/equivocations`,
        )}</td></tr>`;
      })
      .join('');
    const body = `<header><h1>fieldproof collector console</h1><form class="inline" method="post" action="/console/session/delete"><input type="hidden" name="csrf" value="${esc(csrfTokenOf(s.token))}"><button type="submit">Sign out</button></form></header>
<main><section id="fleet"><h2>Enrolled units</h2><p>${num('devices.count', devices.length, '/console')} enrolled, as of ${esc(new Date(at).toISOString())}</p>${
      devices.length === 0
        ? '<p class="mute">No unit enrolled yet (fieldproof devices add).</p>'
        : `<div class="scroll"><table><tr><th>unit</th><th>tree size</th><th>last push</th><th>lag</th><th>equivocations</th></tr>${rows}</table></div>`
    }</section></main>`;
    return html(reply, 200, page('fieldproof collector console', body));
  });

  app.post('/console/session', async (request, reply) => {
    const key = formField(request, 'key')?.trim();
    if (key === undefined || key === '') return html(reply, 400, signIn('Enter an operator key.'));
    const row = isApiKeySecret(key) ? await findActiveOperatorKeyByHash(db, hashApiKey(key)) : undefined;
    if (row === undefined) return html(reply, 401, signIn('Unknown or revoked operator key.'));
    const token = newSessionToken();
    const at = ctx.now();
    await insertCollectorSession(db, {
      tokenHash: hashSessionToken(token),
      keyId: row.id,
      createdAt: at,
      expiresAt: at + CONSOLE_SESSION_TTL_MS,
    });
    return redirectToConsole(reply, sessionCookie(request, token, CONSOLE_SESSION_TTL_MS / 1000));
  });

  app.post('/console/session/delete', async (request, reply) => {
    const s = await session(request);
    if (s === null) throw new errors.Unauthorized('not signed in to the console');
    if (!csrfMatches(s.token, formField(request, 'csrf'))) {
      throw new errors.Forbidden('missing or wrong CSRF token: reload the console and try again');
    }
    await deleteCollectorSession(db, hashSessionToken(s.token));
    return redirectToConsole(reply, sessionCookie(request, '', 0));
  });
}
