/** Text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A number that links to what is behind it; `k` names it for the browser tests (data-k). */
export function num(k: string, value: number | string, href: string): string {
  return `<a class="n" data-k="${esc(k)}" href="${esc(href)}">${esc(value)}</a>`;
}

/** `3 h 12 min`, `45 s`. */
export function age(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** The shared stylesheet: one column on a phone, a grid of panels on a wider screen; no web fonts. */
export const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--mute:#57606a;--line:#d0d7de;--ok:#116329;--bad:#a40e26;--warn:#7d4e00;--link:#0550ae}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--mute:#9198a1;--line:#30363d;--ok:#3fb950;--bad:#ff7b72;--warn:#d29922;--link:#58a6ff}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:72rem;margin:0 auto;padding:.75rem 1rem}header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;border-bottom:1px solid var(--line)}
h1{font-size:1.2rem;margin:0}h2{font-size:1rem;margin:0 0 .5rem}h3{font-size:.95rem;margin:.75rem 0 .25rem}
a{color:var(--link)}a.n{font-variant-numeric:tabular-nums;font-weight:600}
.grid{display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr))}
section{border:1px solid var(--line);border-radius:6px;padding:.75rem;min-width:0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}td,th{text-align:left;padding:.15rem .4rem .15rem 0;vertical-align:top;border-bottom:1px solid var(--line)}
.mute{color:var(--mute)}.ok{color:var(--ok)}.bad,.failed{color:var(--bad)}.warn,.unchecked{color:var(--warn)}
.wrap{overflow-wrap:anywhere}.scroll{overflow-x:auto}
ul.attention{margin:.5rem 0;padding-left:1.2rem}
ul.states{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}ul.jobs{list-style:none;padding:0;margin:0}ul.jobs li{padding:.4rem 0;border-top:1px solid var(--line)}
button,input{font:inherit}button{padding:.35rem .8rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);cursor:pointer}
input[type=password],input[type=text]{width:100%;padding:.4rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
label{display:block;margin:.4rem 0 .2rem}
.drop{border:2px dashed var(--line);border-radius:6px;padding:1rem;text-align:center}.drop.over{border-color:var(--link)}
ul.links{list-style:none;padding:0;margin:.5rem 0;font:13px/1.4 ui-monospace,monospace}ul.links li{white-space:pre-wrap;overflow-wrap:anywhere;padding:.1rem 0}
.verdict{font-weight:600}.verdict.ok{color:var(--ok)}.verdict.failed{color:var(--bad)}
svg{display:block;max-width:100%}svg rect{fill:var(--link)}
.inline{display:inline}.notice{padding:.5rem .75rem;border:1px solid var(--line);border-radius:6px}
`;

/** A whole page: inline CSS and (optionally) one inline script, nothing fetched from elsewhere. */
export function page(title: string, body: string, script?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(
    title,
  )}</title><style>${CSS}</style></head><body>${body}${script === undefined ? '' : `<script>${script}</script>`}</body></html>`;
}
