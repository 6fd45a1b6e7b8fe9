import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIELDPROOF_BIN, spawnApi, type ApiProcess } from './support/api-process.js';
import { tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, freePort } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { waitFor } from './support/wait-for.js';

/**
 * deploy/monitoring cannot drift from the code: every metric its alert rules and Grafana dashboard query
 * is one a real `fieldproof api` and `fieldproof keeper` (the BUILT cli, an EVM chain configured) list on
 * their /metrics — so renaming or dropping a metric fails here, not silently on a unit's dashboard. The
 * rules also pass `promtool check rules` when promtool is installed (Debian package `prometheus`).
 */
const MONITORING = fileURLToPath(new URL('../deploy/monitoring/', import.meta.url));
const RULES = path.join(MONITORING, 'fieldproof-alerts.yml');
const DASHBOARD = path.join(MONITORING, 'fieldproof-dashboard.json');
/** Series Prometheus itself makes; not ours to export. */
const PROMETHEUS_OWN = new Set(['up']);

let dir: string;
let api: ApiProcess | undefined;
let keeper: ReturnType<typeof spawn> | undefined;
let keeperUrl: string;
let readKey: string;

beforeAll(async () => {
  dir = tempDir('fieldproof-monitoring-');
  const env = {
    API_DB_URL: `sqlite://${path.join(dir, 'fieldproof.sqlite3')}`,
    KEEPER_DB_URL: '',
    FIELDPROOF_DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    API_MAX_EVENT_LOOP_DELAY_MS: '0',
    // A chain whose RPC never answers: the anchoring metrics are registered all the same.
    KEEPER_PROVIDER: 'evm',
    KEEPER_CHAINS: JSON.stringify([
      { name: 'local', rpcUrl: `http://127.0.0.1:${await freePort()}`, chainId: 31337, confirmations: 1 },
    ]),
    KEEPER_SIGNER_KEY: HARDHAT_ACCOUNTS[0].privateKey,
  };
  const created = await runNode([FIELDPROOF_BIN, 'keys', 'create', '--scopes', 'read', '--json'], env);
  expect(created.code, created.stderr).toBe(0);
  readKey = (JSON.parse(created.stdout) as { key: string }).key;
  api = await spawnApi({ ...env, LOG_LEVEL: 'info' });
  const port = await freePort();
  keeperUrl = `http://127.0.0.1:${port}`;
  keeper = spawn(process.execPath, [FIELDPROOF_BIN, 'keeper'], {
    env: { ...process.env, ...env, KEEPER_HTTP_PORT: String(port) },
    stdio: 'ignore',
  });
}, 60_000);

afterAll(async () => {
  for (const child of [api?.child, keeper]) {
    if (child === undefined || child.exitCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  }
});

/** Metric names a /metrics text lists (from `# TYPE`), with the series a histogram or summary adds. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

/** The metrics text of `url` once it answers 200 (a refused connection is "not listening yet"). */
async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  return waitFor(
    `${url} to answer`,
    async () => {
      const res = await fetch(url, { headers });
      return res.ok ? await res.text() : undefined;
    },
    { intervalMs: 100 },
  );
}

/** Metric names in PromQL text: identifiers that are not functions, keywords, labels or label values. */
function queriedNames(promql: string): string[] {
  const withoutStrings = promql.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  const withoutGroupings = withoutStrings.replace(
    /\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)/g,
    '',
  );
  return [...withoutGroupings.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !['and', 'or', 'unless', 'bool', 'offset'].includes(name));
}

function ruleQueries(): string[] {
  // The rules file is small and regular: every `expr:` is a scalar or a folded (>-) block.
  const lines = fs.readFileSync(RULES, 'utf8').split('\n');
  const queries: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (match === null) continue;
    if (match[2] !== '>-') {
      queries.push(match[2]!);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && lines[i + 1]!.search(/\S/) > match[1]!.length)
      block.push(lines[++i]!.trim());
    queries.push(block.join(' '));
  }
  return queries;
}

function dashboardQueries(): string[] {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

describe('deploy/monitoring', { timeout: 90_000 }, () => {
  it('queries only metrics the api and keeper export', async () => {
    const exported = new Set([
      ...exportedNames(await scrape(`${api!.address}/metrics`, { authorization: `Bearer ${readKey}` })),
      ...exportedNames(await scrape(`${keeperUrl}/metrics`)),
    ]);
    expect(exported).toContain('fieldproof_anchor_signer_balance_wei'); // the chain's metrics are there

    const rules = ruleQueries();
    const panels = dashboardQueries();
    expect(rules.length).toBeGreaterThanOrEqual(10);
    expect(panels.length).toBeGreaterThanOrEqual(15);
    const missing = new Set<string>();
    const used = new Set<string>();
    for (const query of [...rules, ...panels]) {
      const names = queriedNames(query);
      expect(names.length, query).toBeGreaterThan(0);
      for (const name of names) {
        if (PROMETHEUS_OWN.has(name)) continue;
        used.add(name);
        if (!exported.has(name)) missing.add(name);
      }
    }
    expect([...missing]).toEqual([]);
    // One naming scheme (docs/ARCHITECTURE.md "Logs and metrics"): Node's default metrics carry the
    // process's prefix in every process, so a keeper's and an api's series never share a name.
    expect([...exported].filter((n) => /^(process|nodejs)_/.test(n))).toEqual([]);
    for (const name of ['api', 'keeper'])
      expect(exported, name).toContain(`fieldproof_${name}_process_resident_memory_bytes`);
    // The alerts the issue asks for are there.
    for (const name of [
      'fieldproof_anchor_lost_total',
      'fieldproof_anchor_signer_balance_wei',
      'fieldproof_anchor_estimated_cost_wei',
      'fieldproof_anchor_jobs',
      'fieldproof_sequence_backlog',
      'fieldproof_anchor_last_final_age_seconds',
      'fieldproof_api_request_duration_seconds_count',
    ])
      expect(
        rules.some((q) => queriedNames(q).includes(name)),
        name,
      ).toBe(true);
  });

  it.skipIf(!hasPromtool())('the rules pass promtool check rules', () => {
    const out = execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });
});

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
