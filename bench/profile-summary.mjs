// Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): self time by function and by package.
//
//   node bench/profile-summary.mjs bench/results/profiles-…/CPU.….cpuprofile [top]
import fs from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
const deltas = profile.timeDeltas ?? [];
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0)));
const sampled = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs]
  .filter(([id]) => byId.get(id).callFrame.functionName === '(idle)')
  .reduce((a, [, us]) => a + us, 0);
// Percentages are of busy time (idle samples left out): what the thread spent its CPU on.
const total = sampled - idle;

/** Where a frame comes from: a package name, `fieldproof/<pkg>`, `node:<internal>` or the frame kind. */
function origin(frame) {
  const url = frame.url ?? '';
  if (url === '') return `(${frame.functionName || 'program'})`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm !== null) return nm[1];
  const ours = /packages\/([^/]+)\//.exec(url);
  if (ours !== null) return `fieldproof/${ours[1]}`;
  if (url.startsWith('node:')) return url;
  return url.split('/').slice(-2).join('/');
}

const fns = new Map();
const pkgs = new Map();
for (const [id, us] of selfUs) {
  const frame = byId.get(id).callFrame;
  if (frame.functionName === '(idle)') continue;
  const name = `${frame.functionName || '(anonymous)'}  ${origin(frame)}:${frame.lineNumber + 1}`;
  fns.set(name, (fns.get(name) ?? 0) + us);
  pkgs.set(origin(frame), (pkgs.get(origin(frame)) ?? 0) + us);
}
const show = (title, map) => {
  console.log(
    `${title}: % of busy self time (${(total / 1e6).toFixed(2)} s busy of ${(sampled / 1e6).toFixed(2)} s sampled)`,
  );
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`);
  }
};
show('by package', pkgs);
console.log('');
show('by function', fns);
