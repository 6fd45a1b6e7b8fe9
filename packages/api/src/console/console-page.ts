import { ANCHOR_JOB_STATES } from '@fieldproof/db';
import type { UnitStatus } from '../status/unit-status.js';
import { age, bytes, esc, num, page } from './html.js';
import { verifierPanel } from './verifier-html.js';

/** What the page needs besides the status: the signed-in key and its forms' CSRF token. */
export interface ConsoleViewer {
  readonly keyId: string;
  readonly admin: boolean;
  readonly csrf: string;
  readonly notice?: string;
}

const q = (params: Record<string, string | number>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');

/** The sign-in form (POST /console/session). */
export function signInPage(message?: string): string {
  return page(
    'fieldproof console — sign in',
    `<header><h1>fieldproof console</h1><a href="/console/verifier">Verify a receipt (no sign-in)</a></header><main>
<section><h2>Sign in</h2>${message === undefined ? '' : `<p class="bad" role="alert">${esc(message)}</p>`}
<form method="post" action="/console/session"><label for="key">API key (read scope; admin to retry jobs)</label>
<input id="key" name="key" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p></form>
<p class="mute">The key is exchanged for a session cookie valid 30 minutes; revoking the key ends the session. Create a key on the unit with <code>fieldproof keys create --scopes read,admin</code>.</p></section></main>`,
  );
}

/** The verifier alone: public, no unit data; the page to save for offline use. */
export function verifierPage(bundle: string | undefined): string {
  return page(
    'fieldproof receipt verifier',
    `<header><h1>fieldproof receipt verifier</h1></header><main>${verifierPanel(bundle !== undefined)}</main>`,
    bundle,
  );
}

/** The 24 hourly counts as bars (oldest left), each with its count as a tooltip. */
function chart(hourly: readonly number[]): string {
  const max = Math.max(1, ...hourly);
  const bars = hourly
    .map((n, i) => {
      const h = Math.round((n / max) * 40);
      return `<rect x="${i * 10}" y="${40 - h}" width="8" height="${h}"><title>${24 - i} h ago: ${n} records</title></rect>`;
    })
    .join('');
  return `<svg viewBox="0 0 240 42" width="240" height="42" role="img" aria-label="records per hour over the last 24 hours, largest ${max}">${bars}</svg>`;
}

export function consolePage(s: UnitStatus, viewer: ConsoleViewer, bundle: string | undefined): string {
  const r = s.records;
  const dayAgo = s.now - 24 * 3_600_000;
  const hourAgo = s.now - 3_600_000;
  const attention =
    s.attention.length === 0
      ? `<p class="ok" data-k="attention">Nothing needs attention.</p>`
      : `<ul class="attention bad" data-k="attention">${s.attention.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>`;
  const records = `<section id="records"><h2>Records</h2><table>
<tr><th>received</th><td>${num('records.total', r.total, r.newestId === null ? '/v1/evidence' : `/v1/evidence/${r.newestId}`)}</td></tr>
<tr><th>last hour</th><td>${num('records.lastHour', r.lastHour, `/v1/evidence?${q({ receivedFrom: hourAgo, limit: 100 })}`)}</td></tr>
<tr><th>last 24 h</th><td>${num('records.lastDay', r.lastDay, `/v1/evidence?${q({ receivedFrom: dayAgo, limit: 100 })}`)}</td></tr>
<tr><th>sequencer backlog</th><td>${num('outbox.sequenceBacklog', s.outbox.sequenceBacklog, '/v1/outbox')}</td></tr></table>
${chart(r.hourly)}<p class="mute">records per hour, last 24 h</p></section>`;

  const cp = s.checkpoint;
  const checkpoint = `<section id="checkpoint"><h2>Last checkpoint</h2>${
    cp === null
      ? '<p class="mute">No signed checkpoint yet.</p>'
      : `<table><tr><th>tree size</th><td>${num('checkpoint.treeSize', cp.treeSize, '/v1/log/checkpoint')}</td></tr>
<tr><th>age</th><td data-age="${cp.ageMs}">${esc(age(cp.ageMs))}</td></tr>
<tr><th>root</th><td class="wrap">${esc(cp.root)}</td></tr>
<tr><th>signature</th><td class="wrap">${cp.signatures.map(esc).join('<br>')}</td></tr>
<tr><th>cosignatures</th><td>${num('checkpoint.cosignatures', cp.cosignatures.length, '/v1/collectors')}${cp.cosignatures
          .map((c) => `<br>${esc(c.collector)} at ${esc(new Date(c.cosignedAt).toISOString())}`)
          .join('')}</td></tr></table>`
  }</section>`;

  const chains = s.outbox.chains;
  const anchors = `<section id="anchors"><h2>Anchors</h2>${
    chains.length === 0
      ? '<p class="mute">No anchor jobs yet.</p>'
      : chains
          .map(
            (c) => `<h3>${esc(c.chain)}</h3><ul class="states">${ANCHOR_JOB_STATES.map(
              (st) =>
                `<li>${st} ${num(`anchors.${c.chain}.${st}`, c.byState[st], `/v1/anchors?${q({ chain: c.chain, state: st })}`)}</li>`,
            ).join('')}</ul>
<p>oldest unfinished: ${
              c.oldestPending === null
                ? '<span class="mute">none</span>'
                : `tree size ${num(`anchors.${c.chain}.oldestPendingTreeSize`, c.oldestPending.treeSize, `/v1/anchors?${q({ chain: c.chain, order: 'asc' })}`)}, ${esc(age(c.oldestPending.ageMs))} old`
            }</p>`,
          )
          .join('')
  }</section>`;

  const signers = s.keeper?.signers ?? [];
  const signer = `<section id="signer"><h2>Signer</h2>${
    signers.length === 0
      ? `<p class="mute">${s.keeper?.reachable === true ? 'No balance checked yet (no EVM chain, or the first check is pending).' : 'The keeper is not reachable: no balance.'}</p>`
      : `<table><tr><th>chain</th><th>balance</th><th>anchors it pays for</th></tr>${signers
          .map(
            (g) =>
              `<tr><td>${esc(g.chain)}</td><td>${esc((g.balanceWei / 1e18).toPrecision(6))} ETH</td><td>${
                g.anchorsLeft === null
                  ? '<span class="mute">unknown</span>'
                  : num(
                      `signer.${g.chain}.anchorsLeft`,
                      g.anchorsLeft,
                      `/v1/anchors?${q({ chain: g.chain })}`,
                    )
              }</td></tr>`,
          )
          .join('')}</table>`
  }</section>`;

  const dead = s.outbox.dead;
  const deadPanel = `<section id="dead"><h2>Dead-lettered jobs</h2><p>${num('outbox.dead.total', dead.total, `/v1/anchors?${q({ state: 'dead' })}`)} dead</p>${
    dead.jobs.length === 0
      ? ''
      : `<ul class="jobs">${dead.jobs
          .map(
            (j) =>
              `<li data-job="${esc(j.id)}"><a class="wrap" href="/v1/anchors?${esc(q({ chain: j.chain, state: 'dead' }))}">${esc(j.id)}</a><br>${esc(j.chain)}, tree size ${j.treeSize}, ${j.attempts} attempts<br><span class="wrap mute">${esc(j.lastError ?? '')}</span><br>${
                viewer.admin
                  ? `<form method="post" action="/console/anchors/${esc(encodeURIComponent(j.id))}/retry"><input type="hidden" name="csrf" value="${esc(viewer.csrf)}"><button type="submit" aria-label="retry job ${esc(j.id)}">Retry</button></form>`
                  : '<span class="mute">admin key needed to retry</span>'
              }</li>`,
          )
          .join('')}</ul>`
  }</section>`;

  const collectors = `<section id="collectors"><h2>Collectors</h2>${
    s.collectors.length === 0
      ? '<p class="mute">This unit pushes to no collector (KEEPER_COLLECTORS).</p>'
      : `<table><tr><th>collector</th><th>acked</th><th>lag</th><th>fleet final</th><th></th></tr>${s.collectors
          .map(
            (c) =>
              `<tr><td>${esc(c.name)}</td><td>${num(`collectors.${c.name}.ackedTreeSize`, c.ackedTreeSize, '/v1/collectors')}</td><td>${num(`collectors.${c.name}.lagLeaves`, c.lagLeaves, '/v1/collectors')} leaves, ${esc(age(c.lagSeconds * 1000))}</td><td>${
                c.fleet === null
                  ? '<span class="mute">no fleetKey</span>'
                  : `${num(`collectors.${c.name}.fleetFinalTreeSize`, c.fleet.finalTreeSize, '/v1/collectors')}, ${c.fleet.lagLeaves} behind`
              }</td><td class="wrap ${c.stopped || c.lastError !== null || c.fleet?.stopped === true ? 'bad' : ''}">${esc(
                c.stopped
                  ? `stopped: ${c.lastError ?? ''}`
                  : c.fleet?.stopped === true
                    ? `fleet proofs stopped: ${c.fleet.lastError ?? ''}`
                    : (c.lastError ?? c.fleet?.lastError ?? ''),
              )}</td></tr>`,
          )
          .join('')}</table>`
  }</section>`;

  const d = s.disk;
  const disk = `<section id="disk"><h2>Disk</h2><table>
<tr><th>free</th><td data-k="disk.freeBytes" data-v="${d.freeBytes ?? ''}">${d.freeBytes === null ? 'unknown' : esc(bytes(d.freeBytes))}</td></tr>
<tr><th>written per day</th><td data-k="disk.bytesPerDay" data-v="${d.bytesPerDay}">${esc(bytes(d.bytesPerDay))}</td></tr>
<tr><th>headroom</th><td data-k="disk.headroomDays" data-v="${d.headroomDays ?? ''}">${d.headroomDays === null ? 'no writes in 24 h' : `${esc(d.headroomDays.toFixed(1))} days`}</td></tr></table></section>`;

  const b = s.backup;
  const backup = `<section id="backup"><h2>Backup</h2>${
    b.newest === null
      ? `<p class="bad" data-k="backup.newest" data-v="">No backup in ${esc(b.dir)}.</p>`
      : `<p data-k="backup.newest" data-v="${esc(b.newest.file)}">${esc(b.newest.file)}, ${esc(age(b.newest.ageMs))} old (${b.count} kept)</p>`
  }</section>`;

  const c = s.clock;
  const clock = `<section id="clock"><h2>Clock</h2><p class="${c.ok ? 'ok' : 'bad'}" data-k="clock.ok" data-v="${c.ok}">${esc(new Date(c.now).toISOString())}: NTP ${esc(c.ntp)}${
    c.aheadMs > 0 ? `; the ${esc(c.aheadOf ?? '')} is ${esc(age(c.aheadMs))} ahead` : ''
  }</p></section>`;

  const k = s.keeper;
  const processes = `<section id="processes"><h2>Processes</h2><table><tr><th>api</th><td class="ok">serving this page</td></tr>
<tr><th>keeper</th><td class="${k?.ready === true ? 'ok' : 'bad'}" data-k="keeper.ready" data-v="${k?.ready === true}">${
    k === null
      ? 'not probed'
      : k.ready
        ? 'ready'
        : k.reachable
          ? `not ready: ${esc(k.failing.join(', ') || (k.error ?? ''))}`
          : `unreachable at ${esc(k.url)}`
  }</td></tr></table></section>`;

  const notice =
    viewer.notice === undefined ? '' : `<p class="notice" role="status">${esc(viewer.notice)}</p>`;
  const body = `<header><h1>fieldproof console</h1><nav><a href="/docs">API docs</a> · <a href="/console/verifier">verifier alone</a> ·
<form class="inline" method="post" action="/console/session/delete"><input type="hidden" name="csrf" value="${esc(viewer.csrf)}"><button type="submit">Sign out</button></form></nav></header>
<main>${notice}<section id="attention"><h2>Needs attention</h2>${attention}<p class="mute">as of ${esc(new Date(s.now).toISOString())}; key ${esc(viewer.keyId)}${viewer.admin ? ' (admin)' : ''}</p></section>
<div class="grid">${records}${checkpoint}${anchors}${signer}${deadPanel}${collectors}${disk}${backup}${clock}${processes}${verifierPanel(bundle !== undefined)}</div></main>`;
  return page('fieldproof console', body, bundle);
}
