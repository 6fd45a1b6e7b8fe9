// Intake: the real api process (`fieldproof api`, auth on, SQLite synchronous=FULL) under autocannon at
// several concurrencies, against the no-op fastify peer (bench/noop-server.mjs) with the same body and
// schema; JSON-payload and raw-bytes intake in MB/s against node:crypto SHA-256 of the same bytes; the
// database ceiling; resident memory and bytes written per record of the api and the keeper.
import { createHash } from 'node:crypto';
import path from 'node:path';
import autocannon from 'autocannon';
import { digestSource } from './bench-log.mjs';
import { templateEnv, unitSettings } from './board-settings.mjs';
import { cpuMs, rssBytes, sampleRss, writeBytes } from './processes.mjs';
import { ratio } from './report.mjs';
import {
  createKey,
  installation,
  sequenceBacklog,
  startApi,
  startKeeper,
  startNoop,
  waitFor,
} from './servers.mjs';

const MB = 1024 * 1024;

/**
 * One autocannon run of POST requests whose bodies come from `makeBody()` (called once per request).
 * @returns {Promise<{ requestsPerSecond: number, p50: number, p99: number, status: Record<string, number>, errors: number, timeouts: number, bodyBytes: number, completed: number, seconds: number }>}
 */
export async function load({
  url,
  path: route = '/v1/evidence',
  method = 'POST',
  connections,
  seconds,
  amount,
  headers,
  makeBody,
  makePath,
}) {
  let bodyBytes = 0;
  let bodies = 0;
  const start = performance.now();
  const result = await autocannon({
    url,
    connections,
    pipelining: 1,
    timeout: 30,
    ...(amount === undefined ? { duration: seconds } : { amount }),
    requests: [
      {
        method,
        path: route,
        headers,
        setupRequest(request) {
          if (makeBody === undefined)
            return makePath === undefined ? request : { ...request, path: makePath() };
          const body = makeBody();
          bodyBytes += body.length;
          bodies++;
          return { ...request, body };
        },
      },
    ],
  });
  const status = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, Number(s.count)]),
  );
  const completed = Object.values(status).reduce((a, b) => a + b, 0);
  // autocannon reports whole seconds (and ends `amount` runs on its 1 s tick): time the run here.
  const elapsed = (performance.now() - start) / 1000;
  return {
    requestsPerSecond: completed / elapsed,
    p50: result.latency.p50,
    p99: result.latency.p99,
    status,
    errors: result.errors,
    timeouts: result.timeouts,
    bodyBytes: bodies === 0 ? 0 : bodyBytes / bodies,
    completed,
    seconds: elapsed,
  };
}

/** The api's group-commit batch-size histogram totals (GET /metrics): batches and writes so far. */
async function groupCommits(apiUrl, key) {
  const res = await fetch(`${apiUrl}/metrics`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const read = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    count: read('fieldproof_api_group_commit_batch_size_count'),
    sum: read('fieldproof_api_group_commit_batch_size_sum'),
  };
}

/** A warm-up run (JIT, connections, caches), skipped when `requests` is 0. autocannon needs ≥ 1 s for it. */
async function warmUp(requests, options) {
  if (requests > 0) await load({ ...options, amount: requests });
}

/** Throws unless every answer was `expected` (a 200 would be an idempotent replay, a 503/429 shed load). */
function assertAll(run, expected, what) {
  const other = Object.entries(run.status).filter(([code]) => code !== String(expected));
  if (other.length > 0 || run.errors > 0 || run.timeouts > 0) {
    throw new Error(
      `${what}: expected only ${expected} answers, got ${JSON.stringify(run.status)}, ${run.errors} errors, ${run.timeouts} timeouts`,
    );
  }
}

/** The median of each figure over several runs (rates, latencies). */
function medianRun(runs) {
  const median = (pick) => {
    const values = runs.map(pick).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)];
  };
  return {
    requestsPerSecond: median((r) => r.requestsPerSecond),
    p50: median((r) => r.p50),
    p99: median((r) => r.p99),
    completed: runs.reduce((sum, r) => sum + r.completed, 0),
  };
}

function digestBodies() {
  const next = digestSource();
  return () => JSON.stringify({ digest: next(), kind: 'bench', occurredAt: Date.now() });
}

/** ~7 KB of JSON a field unit might send: one scan's detections. `seq` makes each payload unique. */
function jsonBodies() {
  const detections = Array.from({ length: 40 }, (_, i) => ({
    t: 1_700_000_000_000 + i * 250,
    freqHz: 2_412_000_000 + i * 5_000_000,
    rssiDbm: -40 - (i % 37),
    bearingDeg: (i * 37) % 360,
    lat: 52.52 + i / 10_000,
    lon: 13.405 + i / 10_000,
    classification: i % 3 === 0 ? 'quadcopter' : 'fixed-wing',
    confidence: 0.5 + (i % 50) / 100,
  }));
  const run = Math.random().toString(36).slice(2);
  let seq = 0;
  return () =>
    JSON.stringify({
      kind: 'bench-json',
      occurredAt: Date.now(),
      payload: { run, seq: seq++, unit: 'unit-7', sensor: 'rf-scan', detections },
    });
}

/** `size` random-looking bytes, unique per call (a counter in the first 8 bytes). */
function byteBodies(size) {
  const template = createHash('sha256').update('bench').digest();
  const base = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) template.copy(base, i, 0, Math.min(32, size - i));
  const run = BigInt(Date.now()) << 20n;
  let seq = 0n;
  return () => {
    const body = Buffer.from(base);
    body.writeBigUInt64BE(run + seq++, 0);
    return body;
  };
}

/** node:crypto SHA-256 over `makeBody()` outputs for ~`ms`: MB/s. */
function sha256MBps(makeBody, ms) {
  const bodies = Array.from({ length: 16 }, () => Buffer.from(makeBody()));
  let bytes = 0;
  const start = performance.now();
  let i = 0;
  while (performance.now() - start < ms) {
    const b = bodies[i++ % bodies.length];
    createHash('sha256').update(b).digest();
    bytes += b.length;
  }
  return bytes / MB / ((performance.now() - start) / 1000);
}

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, seconds: number, settleMs: number, rounds: number, warmupRequests: number, concurrencies: number[], bytesSize: number, mixedSeconds: number, nodeArgs?: string[] }} size
 * @param {Map<number, { rowsPerSecond: number, bytesPerRow: number }> | undefined} ceiling  raw inserts by rows per transaction
 */
export async function benchIntake(report, size, ceiling) {
  const inst = installation(size.dir, 'intake');
  const key = await createKey(inst);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  // Idle footprint first: the api, the peer and a keeper on the fresh database, started together; the
  // keeper is stopped before any load (it comes back later, to sequence).
  const [api, noop, idleKeeper, sqlitePeer] = await Promise.all([
    startApi(inst, { nodeArgs: size.nodeArgs }),
    startNoop(inst.env.LOG_LEVEL, size.nodeArgs),
    startKeeper(inst, { nodeArgs: size.nodeArgs }),
    startNoop(inst.env.LOG_LEVEL, size.nodeArgs, { sqlite: path.join(size.dir, 'sqlite-peer.sqlite3') }),
  ]);
  await new Promise((r) => setTimeout(r, size.settleMs));
  const apiIdleRss = rssBytes(api.child.pid);
  const noopIdleRss = rssBytes(noop.child.pid);
  const keeperIdleRss = rssBytes(idleKeeper.child.pid);
  await idleKeeper.child.stop();
  const unitFlags = unitSettings('api').nodeArgs.join(' ');
  report.add({
    section: 'footprint',
    measure: 'api resident memory, idle (after start)',
    value: apiIdleRss / MB,
    unit: 'MB',
    peer: 'no-op fastify process, idle',
    peerValue: noopIdleRss / MB,
    ratio: ratio(apiIdleRss, noopIdleRss),
    target: '≤ 90 MB',
    met: apiIdleRss <= 90 * MB,
    note: `api and keeper run as the systemd units run them: node ${unitFlags} apps/<name>/dist/index.js, API_DOCS=${templateEnv().API_DOCS ?? 'on'} (deploy/arm64); the no-op peer with node's defaults`,
  });

  const details = { runs: [] };
  report.details.intake = details;
  const rssSampler = sampleRss([api.child.pid, noop.child.pid]);
  for (const c of size.concurrencies) {
    const makeBody = digestBodies();
    // Peer and api back to back at each concurrency, each after a short warm-up at that concurrency, for
    // `rounds` rounds; the median of each figure is reported (the machine may be shared).
    const peers = [];
    const sqlitePeers = [];
    const runs = [];
    let written = 0;
    await warmUp(size.warmupRequests, { url: noop.url, connections: c, headers, makeBody });
    await warmUp(size.warmupRequests, { url: sqlitePeer.url, connections: c, headers, makeBody });
    await warmUp(size.warmupRequests, { url: api.url, connections: c, headers, makeBody });
    for (let round = 0; round < size.rounds; round++) {
      const sqliteRun = await load({
        url: sqlitePeer.url,
        connections: c,
        seconds: size.seconds,
        headers,
        makeBody,
      });
      assertAll(sqliteRun, 201, `sqlite peer c=${c}`);
      sqlitePeers.push(sqliteRun);
      const peerCpu = cpuMs(noop.child.pid);
      const peerRun = await load({ url: noop.url, connections: c, seconds: size.seconds, headers, makeBody });
      peerRun.cpuMs = (cpuMs(noop.child.pid) ?? 0) - (peerCpu ?? 0);
      assertAll(peerRun, 201, `no-op c=${c}`);
      peers.push(peerRun);
      const before = writeBytes(api.child.pid);
      const commitsBefore = await groupCommits(api.url, key);
      const apiCpu = cpuMs(api.child.pid);
      const apiRun = await load({ url: api.url, connections: c, seconds: size.seconds, headers, makeBody });
      apiRun.cpuMs = (cpuMs(api.child.pid) ?? 0) - (apiCpu ?? 0);
      written += (writeBytes(api.child.pid) ?? 0) - (before ?? 0);
      const commitsAfter = await groupCommits(api.url, key);
      apiRun.commits = commitsAfter.count - commitsBefore.count;
      apiRun.committedWrites = commitsAfter.sum - commitsBefore.sum;
      assertAll(apiRun, 201, `api c=${c}`);
      runs.push(apiRun);
    }
    const peer = medianRun(peers);
    const sqlite = medianRun(sqlitePeers);
    const run = medianRun(runs);
    const bytesPerRecord = written / runs.reduce((sum, x) => sum + x.completed, 0);
    const commits = runs.reduce((sum, x) => sum + x.commits, 0);
    const commitsPerSecond = commits / runs.reduce((sum, x) => sum + x.seconds, 0);
    const meanBatch = runs.reduce((sum, x) => sum + x.committedWrites, 0) / commits;
    // CPU time per request (µs), over all rounds: a figure a busy machine disturbs far less than rates.
    const cpuPerRequest = (list) =>
      (1000 * list.reduce((sum, x) => sum + x.cpuMs, 0)) / list.reduce((sum, x) => sum + x.completed, 0);
    const apiCpuUs = cpuPerRequest(runs);
    const peerCpuUs = cpuPerRequest(peers);
    details.runs.push({
      concurrency: c,
      api: runs,
      noop: peers,
      sqlitePeer: sqlitePeers,
      apiBytesWrittenPerRecord: bytesPerRecord,
      groupCommit: { commitsPerSecond, meanBatch },
      cpuMicrosecondsPerRequest: { api: apiCpuUs, noop: peerCpuUs },
    });
    const r = ratio(run.requestsPerSecond, peer.requestsPerSecond);
    report.add({
      section: 'intake',
      measure: `POST /v1/evidence (digest), ${c} connection${c === 1 ? '' : 's'}`,
      value: run.requestsPerSecond,
      unit: 'req/s',
      peer: 'no-op fastify route, same schema',
      peerValue: peer.requestsPerSecond,
      ratio: r,
      target: c >= 64 ? '≥ 0.5× peer' : undefined,
      met: c >= 64 ? r !== undefined && r >= 0.5 : undefined,
      note: `group commit: ${Math.round(commitsPerSecond)} commits/s, ${meanBatch.toFixed(1)} writes per commit on average (the api's /metrics), ${Math.round((bytesPerRecord * meanBatch) / 1024)} KiB written per commit`,
    });
    const rs = ratio(run.requestsPerSecond, sqlite.requestsPerSecond);
    const sqliteTarget = c === 1 ? 1 : c >= 16 ? 2 : undefined;
    report.add({
      section: 'intake',
      measure: `  vs fastify + better-sqlite3, ${c} connection${c === 1 ? '' : 's'}`,
      value: run.requestsPerSecond,
      unit: 'req/s',
      peer: 'fastify + better-sqlite3, main thread',
      peerValue: sqlite.requestsPerSecond,
      ratio: rs,
      target: sqliteTarget === undefined ? undefined : `≥ ${sqliteTarget}× peer`,
      met: sqliteTarget === undefined ? undefined : rs !== undefined && rs >= sqliteTarget,
      note:
        c === size.concurrencies[0]
          ? "the server a user would otherwise write: the same fastify process, one transaction inserting the api's rows per request on the main thread (better-sqlite3, WAL, synchronous=FULL, opened by the product's openSqlite); run in the same rounds as the api and the no-op route"
          : `its p50 / p99 ${sqlite.p50} / ${sqlite.p99} ms`,
    });
    report.add({
      section: 'intake',
      measure: `  latency p50 / p99, ${c} connection${c === 1 ? '' : 's'}`,
      value: run.p99,
      text: `${run.p50} / ${run.p99} ms`,
      unit: 'ms',
      peer: 'no-op fastify route, same schema',
      peerValue: peer.p99,
      peerText: `${peer.p50} / ${peer.p99} ms`,
      ratio: ratio(run.p99, peer.p99),
      target: c >= 128 ? 'p99 < 25 ms' : undefined,
      met: c >= 128 ? run.p99 < 25 : undefined,
    });
    const raw = ceiling?.get(c);
    report.add({
      section: 'intake',
      measure: `  CPU time per request, ${c} connection${c === 1 ? '' : 's'}`,
      value: apiCpuUs,
      unit: 'µs',
      peer: 'no-op fastify route, same schema',
      peerValue: peerCpuUs,
      ratio: ratio(apiCpuUs, peerCpuUs),
      note:
        c === size.concurrencies[0]
          ? 'user + system time of the server process (all threads: the api commits on a writer thread) from /proc/<pid>/stat ÷ requests answered'
          : undefined,
    });
    if (raw !== undefined) {
      report.add({
        section: 'intake',
        measure: `  vs the database ceiling, ${c} connection${c === 1 ? '' : 's'}`,
        value: run.requestsPerSecond,
        unit: 'req/s',
        peer: `raw inserts, ${c} row${c === 1 ? '' : 's'}/tx`,
        peerValue: raw.rowsPerSecond,
        peerUnit: 'rows/s',
        ratio: ratio(run.requestsPerSecond, raw.rowsPerSecond),
        note:
          c === size.concurrencies[0]
            ? 'with c requests in flight a group commit holds at most c rows: raw transactions of c rows are its durable ceiling'
            : undefined,
      });
      report.add({
        section: 'footprint',
        measure: `api bytes written per record, ${c} connection${c === 1 ? '' : 's'}`,
        value: bytesPerRecord,
        unit: 'B',
        peer: `raw inserts, ${c} row${c === 1 ? '' : 's'}/tx`,
        peerValue: raw.bytesPerRow,
        ratio: ratio(bytesPerRecord, raw.bytesPerRow),
        note:
          c === size.concurrencies[0]
            ? 'write_bytes of /proc/<api pid>/io over the runs ÷ records acknowledged — what wears an SD card; peer: the same rows written raw in transactions of c rows'
            : undefined,
      });
    }
  }

  // JSON payloads and raw bytes: MB/s of request bodies acknowledged vs hashing the same bytes.
  const c = Math.max(...size.concurrencies.filter((n) => n <= 16));
  const json = jsonBodies();
  await warmUp(size.warmupRequests, { url: api.url, connections: c, headers, makeBody: json });
  const jsonRun = await load({
    url: api.url,
    connections: c,
    seconds: size.seconds,
    headers,
    makeBody: json,
  });
  assertAll(jsonRun, 201, 'api JSON payloads');
  const jsonMBps = (jsonRun.requestsPerSecond * jsonRun.bodyBytes) / MB;
  const jsonSha = sha256MBps(json, 300);
  report.add({
    section: 'intake',
    measure: `JSON payload (~${Math.round(jsonRun.bodyBytes / 1024)} KiB, RFC 8785), ${c} connections`,
    value: jsonMBps,
    unit: 'MB/s',
    peer: 'node:crypto SHA-256, same bytes',
    peerValue: jsonSha,
    ratio: ratio(jsonMBps, jsonSha),
    note: `${Math.round(jsonRun.requestsPerSecond)} req/s, p99 ${jsonRun.p99} ms; the server parses, canonicalises (RFC 8785), hashes and stores the payload in the database`,
  });
  const bytes = byteBodies(size.bytesSize);
  const byteHeaders = { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' };
  const bytesPath = `/v1/evidence?kind=bench-bytes&occurredAt=${Date.now()}`;
  await warmUp(Math.min(50, size.warmupRequests), {
    url: api.url,
    path: bytesPath,
    connections: c,
    headers: byteHeaders,
    makeBody: bytes,
  });
  const bytesRun = await load({
    url: api.url,
    path: bytesPath,
    connections: c,
    seconds: size.seconds,
    headers: byteHeaders,
    makeBody: bytes,
  });
  assertAll(bytesRun, 201, 'api raw bytes');
  const bytesMBps = (bytesRun.requestsPerSecond * bytesRun.bodyBytes) / MB;
  const bytesSha = sha256MBps(bytes, 300);
  report.add({
    section: 'intake',
    measure: `raw bytes (${size.bytesSize / 1024} KiB, octet-stream), ${c} connections`,
    value: bytesMBps,
    unit: 'MB/s',
    peer: 'node:crypto SHA-256, same bytes',
    peerValue: bytesSha,
    ratio: ratio(bytesMBps, bytesSha),
    note: `${Math.round(bytesRun.requestsPerSecond)} req/s, p99 ${bytesRun.p99} ms; streamed to the content store, hashed while streaming, file and folder fsynced, then the row committed`,
  });
  details.json = { run: jsonRun, MBps: jsonMBps, sha256MBps: jsonSha };
  details.bytes = { run: bytesRun, MBps: bytesMBps, sha256MBps: bytesSha };

  const underLoad = rssSampler.stop();
  await noop.child.stop();
  await sqlitePeer.child.stop();
  report.add({
    section: 'footprint',
    measure: 'api resident memory, under load (max)',
    value: underLoad.get(api.child.pid) / MB,
    unit: 'MB',
    peer: 'no-op fastify process, under load',
    peerValue: underLoad.get(noop.child.pid) / MB,
    ratio: ratio(underLoad.get(api.child.pid), underLoad.get(noop.child.pid)),
    target: '≤ 160 MB',
    met: underLoad.get(api.child.pid) <= 160 * MB,
    note: 'max VmRSS sampled every 100 ms over the digest, JSON and bytes runs',
  });

  // The keeper on the same database: drains what the runs above recorded, then runs beside live intake.
  // "alone" is measured right before the keeper starts, so that both runs see the same machine.
  const mixedC = c;
  const alone = await load({
    url: api.url,
    connections: mixedC,
    seconds: size.mixedSeconds,
    headers,
    makeBody: digestBodies(),
  });
  assertAll(alone, 201, 'api before the keeper');
  const backlog = await sequenceBacklog(api.url, key);
  const drainStart = performance.now();
  const keeper = await startKeeper(inst, { env: { KEEPER_POLL_MS: '250' }, nodeArgs: size.nodeArgs });
  const keeperSampler = sampleRss([keeper.child.pid, api.child.pid]);
  await waitFor(
    'the keeper to sequence the backlog',
    async () => ((await sequenceBacklog(api.url, key)) === 0 ? true : undefined),
    {
      timeoutMs: 180_000,
      everyMs: 100,
    },
  );
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const drainRss = keeperSampler.stop();
  const liveSampler = sampleRss([keeper.child.pid, api.child.pid]);
  const apiBefore = writeBytes(api.child.pid);
  const keeperBefore = writeBytes(keeper.child.pid);
  const makeBody = digestBodies();
  const mixed = await load({
    url: api.url,
    connections: mixedC,
    seconds: size.mixedSeconds,
    headers,
    makeBody,
  });
  assertAll(mixed, 201, 'api with keeper');
  await waitFor(
    'the keeper to catch up',
    async () => ((await sequenceBacklog(api.url, key)) === 0 ? true : undefined),
    {
      timeoutMs: 120_000,
      everyMs: 100,
    },
  );
  const apiWritten = (writeBytes(api.child.pid) ?? 0) - (apiBefore ?? 0);
  const keeperWritten = (writeBytes(keeper.child.pid) ?? 0) - (keeperBefore ?? 0);
  const live = liveSampler.stop();
  await new Promise((r) => setTimeout(r, size.settleMs));
  const keeperAfterRss = rssBytes(keeper.child.pid);
  await keeper.child.stop();
  const aloneAfter = await load({
    url: api.url,
    connections: mixedC,
    seconds: size.mixedSeconds,
    headers,
    makeBody: digestBodies(),
  });
  assertAll(aloneAfter, 201, 'api after the keeper');
  const aloneRate = (alone.requestsPerSecond + aloneAfter.requestsPerSecond) / 2;
  report.add({
    section: 'intake',
    measure: `digest intake with the keeper sequencing beside it, ${mixedC} connections`,
    value: mixed.requestsPerSecond,
    unit: 'req/s',
    peer: 'api alone, runs just before and after',
    peerValue: aloneRate,
    ratio: ratio(mixed.requestsPerSecond, aloneRate),
    note: `p50 / p99 ${mixed.p50} / ${mixed.p99} ms (alone: ${alone.p50} / ${alone.p99} ms before, ${aloneAfter.p50} / ${aloneAfter.p99} ms after) with the keeper (KEEPER_POLL_MS=250) taking the write lock for its batches`,
  });
  report.add({
    section: 'footprint',
    measure: 'keeper resident memory, idle (after start)',
    value: keeperIdleRss / MB,
    unit: 'MB',
    peer: 'api, idle',
    peerValue: apiIdleRss / MB,
    ratio: ratio(keeperIdleRss, apiIdleRss),
    target: '≤ 75 MB',
    met: keeperIdleRss <= 75 * MB,
  });
  const keeperLoadRss = Math.max(drainRss.get(keeper.child.pid) ?? 0, live.get(keeper.child.pid) ?? 0);
  report.add({
    section: 'footprint',
    measure: 'keeper resident memory, under load (max)',
    value: keeperLoadRss / MB,
    unit: 'MB',
    peer: 'keeper, idle',
    peerValue: keeperIdleRss / MB,
    ratio: ratio(keeperLoadRss, keeperIdleRss),
    target: '≤ 160 MB',
    met: keeperLoadRss <= 160 * MB,
    note: `draining a backlog of ${backlog.toLocaleString('en-US')} records (${drainSeconds.toFixed(1)} s from spawn, start-up included), then sequencing beside live intake; ${(keeperAfterRss / MB).toFixed(0)} MB ${size.settleMs} ms after`,
  });
  const perRecord = (apiWritten + keeperWritten) / mixed.completed;
  report.add({
    section: 'footprint',
    measure: 'bytes written per record, api + keeper (sequenced)',
    value: perRecord,
    unit: 'B',
    peer: 'api alone, same concurrency',
    peerValue: details.runs.find((x) => x.concurrency === mixedC)?.apiBytesWrittenPerRecord,
    ratio: ratio(perRecord, details.runs.find((x) => x.concurrency === mixedC)?.apiBytesWrittenPerRecord),
    note: `api ${Math.round(apiWritten / mixed.completed)} B + keeper ${Math.round(keeperWritten / mixed.completed)} B per record: evidence (and, on PostgreSQL only, a queue row), leaf, nodes, checkpoint, WAL checkpoints`,
  });
  details.mixed = {
    run: mixed,
    alone,
    aloneAfter,
    apiWritten,
    keeperWritten,
    backlog,
    drainSeconds,
    keeperIdleRss,
    keeperLoadRss,
    keeperAfterRss,
  };
  details.rss = {
    apiIdleRss,
    noopIdleRss,
    apiLoad: underLoad.get(api.child.pid),
    noopLoad: underLoad.get(noop.child.pid),
  };
  await api.child.stop();
}
