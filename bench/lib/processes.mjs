// Child processes of the benchmark (api, keeper, no-op server, hardhat node) and what /proc says about them.
// Every child is spawned in its own process group and remembered, so that `killAll()` — called at the end,
// on error and on SIGINT/SIGTERM — leaves nothing running.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(ROOT, 'packages/cli/bin/fieldproof.js');

/** @type {Set<Child>} */
const children = new Set();

/**
 * @typedef {object} Child
 * @property {string} name
 * @property {import('node:child_process').ChildProcess} process
 * @property {number} pid
 * @property {() => string} output  last few KB of stdout+stderr
 * @property {Promise<{code: number | null, signal: string | null}>} exited
 * @property {(graceMs?: number) => Promise<void>} stop  SIGTERM, then SIGKILL of the group after graceMs
 */

/**
 * Spawns `node <args>` (or `command` when given) in its own process group. stdout/stderr are read and only
 * the tail is kept (pino writes one line per request: the pipe must be drained, not stored).
 * @param {string} name
 * @param {string[]} args
 * @param {{ env?: Record<string, string>, cwd?: string, nodeArgs?: string[], onLine?: (line: string) => void }} [options]
 * @returns {Child}
 */
export function startChild(name, args, options = {}) {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let partial = '';
  const keep = (/** @type {Buffer} */ chunk) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-6000);
    if (options.onLine !== undefined) {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onLine(line);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(handle);
      resolve({ code, signal });
    });
  });
  /** @type {Child} */
  const handle = {
    name,
    process: child,
    pid: /** @type {number} */ (child.pid),
    output: () => tail,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(handle.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(handle.pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      signalGroup(handle.pid, 'SIGKILL'); // anything the child left behind in its group
    },
  };
  children.add(handle);
  return handle;
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Kills every child still running (SIGTERM, then SIGKILL after `graceMs`). */
export async function killAll(graceMs = 3_000) {
  await Promise.all([...children].map((c) => c.stop(graceMs)));
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every child's group. */
export function killAllNow() {
  for (const c of children) signalGroup(c.pid, 'SIGKILL');
}

/** Runs `node <args>` to completion; rejects with its output on a non-zero exit. */
export async function runNode(args, env = {}, timeoutMs = 60_000) {
  const child = startChild(args.join(' '), args, { env });
  const timer = setTimeout(() => void child.stop(1000), timeoutMs);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited ${code ?? signal}:\n${child.output()}`);
  return child.output();
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `url` answers 2xx, or throws (with the child's output) after `timeoutMs` or if it exits. */
export async function waitForHttp(url, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before answering ${url}:\n${child.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer ${url}:\n${child.output()}`);
    await sleep(50);
  }
}

/** VmRSS of `pid` in bytes (undefined once it is gone). */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** `write_bytes` of /proc/<pid>/io (bytes the process caused to be sent to storage). */
export function writeBytes(pid = 'self') {
  try {
    const m = /^write_bytes:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, every thread) `pid` has used so far, in ms: fields 14 and 15 of /proc/<pid>/stat,
 * in clock ticks of USER_HZ = 100 (the value on every mainstream Linux architecture, arm64 included).
 */
export function cpuMs(pid = process.pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Samples VmRSS of `pids` every `everyMs` until `stop()`; returns the maximum seen per pid. */
export function sampleRss(pids, everyMs = 100) {
  const max = new Map(pids.map((p) => [p, rssBytes(p) ?? 0]));
  const timer = setInterval(() => {
    for (const p of pids) max.set(p, Math.max(max.get(p) ?? 0, rssBytes(p) ?? 0));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      for (const p of pids) max.set(p, Math.max(max.get(p) ?? 0, rssBytes(p) ?? 0));
      return max;
    },
  };
}
