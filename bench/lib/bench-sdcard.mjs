// An SD card's slow flush: the api and the fastify + better-sqlite3 peer, each run with an LD_PRELOAD shim
// (bench/fsync-delay.c, built here with the system C compiler) that makes every fsync()/fdatasync() take
// FSYNC_DELAY_MS (10) longer, under digest write load with concurrent reads (GET /v1/evidence/:id) —
// the reason the api commits on a writer thread: a commit on the main thread stalls every read for as
// long as its fsyncs take.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { load } from './bench-intake.mjs';
import { digestSource } from './bench-log.mjs';
import { ROOT, runNode } from './processes.mjs';
import { ratio } from './report.mjs';
import { createKey, installation, postDigest, startApi, startNoop, waitFor } from './servers.mjs';

export const FSYNC_DELAY_MS = 10;

/** Builds the shim into `dir`; returns its path (throws with the compiler's output when there is no cc). */
export function buildFsyncShim(dir) {
  const out = path.join(dir, 'fsync-delay.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, path.join(ROOT, 'bench/fsync-delay.c'), '-ldl'], {
    stdio: 'pipe',
  });
  return out;
}

/** What the shim does to one fsync and to one SQLite commit, measured in a child process that preloads it. */
async function measureShim(shim, dir) {
  const script = `
    const fs = require('node:fs');
    const file = ${JSON.stringify(path.join(dir, 'fsync-probe'))};
    const fd = fs.openSync(file, 'w');
    let t = performance.now();
    for (let i = 0; i < 20; i++) { fs.writeSync(fd, 'x'); fs.fsyncSync(fd); }
    const fsyncMs = (performance.now() - t) / 20;
    fs.closeSync(fd);
    const D = require(${JSON.stringify(path.join(ROOT, 'node_modules/better-sqlite3'))});
    const db = new D(file + '.sqlite3');
    db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE t (x)');
    const insert = db.prepare('INSERT INTO t VALUES (1)');
    t = performance.now();
    for (let i = 0; i < 20; i++) insert.run();
    const commitMs = (performance.now() - t) / 20;
    console.log(JSON.stringify({ fsyncMs, commitMs }));`;
  const plain = JSON.parse((await runNode(['-e', script])).trim().split('\n').pop());
  const slow = JSON.parse(
    (await runNode(['-e', script.replace(/fsync-probe/g, 'fsync-probe-shim')], { LD_PRELOAD: shim }))
      .trim()
      .split('\n')
      .pop(),
  );
  return { plain, slow };
}

/** Write load and read load at once against one server; both runs' figures. */
async function writesWithReads(url, headers, readId, { seconds, writeConnections, readConnections }) {
  const next = digestSource();
  const [writes, reads] = await Promise.all([
    load({
      url,
      connections: writeConnections,
      seconds,
      headers,
      makeBody: () => JSON.stringify({ digest: next(), kind: 'bench', occurredAt: Date.now() }),
    }),
    load({
      url,
      method: 'GET',
      path: `/v1/evidence/${readId}`,
      connections: readConnections,
      seconds,
      headers: { authorization: headers.authorization },
    }),
  ]);
  for (const [run, expected, what] of [
    [writes, 201, 'writes'],
    [reads, 200, 'reads'],
  ]) {
    const other = Object.keys(run.status).filter((code) => code !== String(expected));
    if (other.length > 0 || run.errors > 0 || run.timeouts > 0) {
      throw new Error(
        `${what}: ${JSON.stringify(run.status)}, ${run.errors} errors, ${run.timeouts} timeouts`,
      );
    }
  }
  return { writes, reads };
}

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, seconds: number, writeConnections: number, readConnections: number, nodeArgs?: string[] }} size
 */
export async function benchSdcard(report, size) {
  const shim = buildFsyncShim(size.dir);
  const probe = await measureShim(shim, size.dir);
  const inst = installation(size.dir, 'sdcard');
  const key = await createKey(inst);
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const env = { FSYNC_DELAY_MS: String(FSYNC_DELAY_MS) };
  const [api, peer] = await Promise.all([
    startApi(inst, { nodeArgs: size.nodeArgs, preload: shim, env }),
    startNoop(inst.env.LOG_LEVEL, size.nodeArgs, {
      sqlite: path.join(size.dir, 'sdcard-peer.sqlite3'),
      preload: shim,
      env,
    }),
  ]);
  // The first record of each (the one the reads fetch); a just-started api may still shed load (503) while
  // its event loop catches up on a loaded machine, so retry for a while.
  const firstRecord = (url) =>
    waitFor('a first record', () => postDigest(url, key, digestSource()()).catch(() => undefined), {
      timeoutMs: 30_000,
      everyMs: 250,
    });
  const first = await firstRecord(api.url);
  const peerFirst = await firstRecord(peer.url);
  const opts = {
    seconds: size.seconds,
    writeConnections: size.writeConnections,
    readConnections: size.readConnections,
  };
  const peerRun = await writesWithReads(peer.url, headers, peerFirst.id, opts);
  const apiRun = await writesWithReads(api.url, headers, first.id, opts);
  await Promise.all([api.child.stop(), peer.child.stop()]);
  report.details.sdcard = { probe, api: apiRun, peer: peerRun, fsyncDelayMs: FSYNC_DELAY_MS };
  const label = `${FSYNC_DELAY_MS} ms per fsync`;
  report.add({
    section: 'SD card (fsync shim)',
    measure: `digest writes, ${size.writeConnections} connections, ${label}`,
    value: apiRun.writes.requestsPerSecond,
    unit: 'req/s',
    peer: 'fastify + better-sqlite3, main thread',
    peerValue: peerRun.writes.requestsPerSecond,
    ratio: ratio(apiRun.writes.requestsPerSecond, peerRun.writes.requestsPerSecond),
    note: `LD_PRELOAD bench/fsync-delay.c (FSYNC_DELAY_MS=${FSYNC_DELAY_MS}) on both servers; measured in a child: one fsync ${probe.slow.fsyncMs.toFixed(1)} ms (${probe.plain.fsyncMs.toFixed(2)} ms without the shim), one SQLite commit (WAL, FULL) ${probe.slow.commitMs.toFixed(1)} ms (${probe.plain.commitMs.toFixed(2)} ms); write p99 api ${apiRun.writes.p99} ms, peer ${peerRun.writes.p99} ms`,
  });
  report.add({
    section: 'SD card (fsync shim)',
    measure: `  reads during that write load (GET /v1/evidence/:id, ${size.readConnections} connections)`,
    value: apiRun.reads.requestsPerSecond,
    unit: 'req/s',
    peer: 'fastify + better-sqlite3, main thread',
    peerValue: peerRun.reads.requestsPerSecond,
    ratio: ratio(apiRun.reads.requestsPerSecond, peerRun.reads.requestsPerSecond),
    note: 'the api commits on its SQLite writer thread; the peer commits on the thread that serves the reads',
  });
  report.add({
    section: 'SD card (fsync shim)',
    measure: '  read latency p50 / p99 during that write load',
    value: apiRun.reads.p99,
    text: `${apiRun.reads.p50} / ${apiRun.reads.p99} ms`,
    unit: 'ms',
    peer: 'fastify + better-sqlite3, main thread',
    peerValue: peerRun.reads.p99,
    peerText: `${peerRun.reads.p50} / ${peerRun.reads.p99} ms`,
    ratio: ratio(apiRun.reads.p99, peerRun.reads.p99),
  });
}
