// Starting the real processes the way a unit does: `fieldproof keys create` (the CLI), then the api and the
// keeper from the entry points the systemd units run (apps/{api,keeper}/dist/index.js) with the units' node
// flags (V8 heap limits) and the env template's API_DOCS (board-settings.mjs), each on its own free port on
// 127.0.0.1.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { templateEnv, unitSettings } from './board-settings.mjs';
import { CLI, ROOT, freePort, runNode, startChild, waitForHttp } from './processes.mjs';

const ENTRY = {
  api: path.join(ROOT, 'apps/api/dist/index.js'),
  keeper: path.join(ROOT, 'apps/keeper/dist/index.js'),
};

const NOOP_SERVER = fileURLToPath(new URL('../noop-server.mjs', import.meta.url));

/**
 * The environment every fieldproof process of one installation gets. The per-key rate limit (default
 * 6000/min) is raised so that the load generator measures intake, not 429s; everything else is the default
 * (synchronous=FULL, group commit of ≤ 256, LOG_LEVEL=info).
 */
export function installation(dir, name) {
  const dbFile = path.join(dir, `${name}.sqlite3`);
  fs.mkdirSync(path.join(dir, `${name}-data`), { recursive: true, mode: 0o700 });
  return {
    name,
    dbFile,
    env: {
      API_DB_URL: `sqlite://${dbFile}`,
      KEEPER_DB_URL: '',
      FIELDPROOF_DATA_DIR: path.join(dir, `${name}-data`),
      LOG_LEVEL: 'info',
      API_RATE_LIMIT_PER_MINUTE: '1000000000',
      API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000000',
    },
  };
}

/** `fieldproof keys create --scopes read,write --json`: migrates the database and returns the new key. */
export async function createKey(inst) {
  const out = await runNode(
    [CLI, 'keys', 'create', '--scopes', 'read,write', '--label', 'bench', '--json'],
    inst.env,
  );
  const line = out
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes('"key"'));
  if (line === undefined) throw new Error(`fieldproof keys create printed no key:\n${out}`);
  return /** @type {{ key: string }} */ (JSON.parse(line)).key;
}

/**
 * The api (apps/api/dist/index.js with the unit's node flags and the env template's API_DOCS) on a free
 * port; resolves once /healthz answers. `options.preload`: a shared library for LD_PRELOAD (the fsync shim).
 */
export async function startApi(inst, options = {}) {
  const port = await freePort();
  const child = startChild(`api (${inst.name})`, [ENTRY.api], {
    env: {
      ...templateEnv(),
      ...inst.env,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      ...options.env,
      ...(options.preload === undefined ? {} : { LD_PRELOAD: options.preload }),
    },
    nodeArgs: [...unitSettings('api').nodeArgs, ...(options.nodeArgs ?? [])],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url };
}

/** The keeper (apps/keeper/dist/index.js, the unit's node flags) on a free port; resolves once /healthz answers. */
export async function startKeeper(inst, options = {}) {
  const port = await freePort();
  const child = startChild(`keeper (${inst.name})`, [ENTRY.keeper], {
    env: { ...inst.env, KEEPER_HTTP_HOST: '127.0.0.1', KEEPER_HTTP_PORT: String(port), ...options.env },
    nodeArgs: [...unitSettings('keeper').nodeArgs, ...(options.nodeArgs ?? [])],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url };
}

/**
 * The no-op peer server (bench/noop-server.mjs) with the same LOG_LEVEL (and node flags, e.g. --cpu-prof).
 * With `options.sqlite` (a database file): the fastify + better-sqlite3 peer, one INSERT of the api's rows
 * per request on the main thread (see noop-server.mjs). `options.preload`: LD_PRELOAD (the fsync shim).
 */
export async function startNoop(logLevel, nodeArgs, options = {}) {
  const port = await freePort();
  const child = startChild(options.sqlite === undefined ? 'no-op server' : 'sqlite peer', [NOOP_SERVER], {
    env: {
      PORT: String(port),
      LOG_LEVEL: logLevel,
      ...(options.sqlite === undefined ? {} : { PEER_SQLITE_FILE: options.sqlite }),
      ...options.env,
      ...(options.preload === undefined ? {} : { LD_PRELOAD: options.preload }),
    },
    nodeArgs,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, child);
  return { child, url };
}

/** GET with the API key; returns the parsed JSON body (throws on a non-2xx). */
export async function getJson(url, key) {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** POSTs one digest record; returns the evidence view. */
export async function postDigest(apiUrl, key, digest, kind = 'bench') {
  const res = await fetch(`${apiUrl}/v1/evidence`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ digest, kind, occurredAt: Date.now() }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`POST /v1/evidence: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Polls `check()` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor(what, check, { timeoutMs = 60_000, everyMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The api's sequence backlog (GET /v1/outbox). */
export async function sequenceBacklog(apiUrl, key) {
  return /** @type {{ sequenceBacklog: number }} */ (await getJson(`${apiUrl}/v1/outbox`, key))
    .sequenceBacklog;
}

/** Milliseconds from posting one digest to `GET /v1/evidence/:id` reading `final` (polled every 20 ms). */
export async function timeToFinal(apiUrl, key, digest, timeoutMs = 180_000) {
  const start = performance.now();
  const evidence = await postDigest(apiUrl, key, digest);
  await waitFor(
    'a record to be final',
    async () =>
      (await getJson(`${apiUrl}/v1/evidence/${evidence.id}`, key)).status === 'final' ? true : undefined,
    { timeoutMs, everyMs: 20 },
  );
  return performance.now() - start;
}
