// A fleet of simulated field units pushing to collector replicas (issue 15, "Several replicas"), shared by
// the replica test (test/collector-replicas.test.ts) and `npm run bench -- --only collector`.
//
// Each unit runs the device's own code paths: records encoded as fieldproof-leaf/v1 leaves
// (@fieldproof/receipt), appended to an RFC 6962 tree (@fieldproof/merkle), checkpoints signed as C2SP
// signed notes with its Ed25519 key (@fieldproof/note), pushes in the keeper's wire format (gzip JSON,
// consistency proof from the last acknowledged size) and cosignatures verified under the witness key. The
// collector replicas are real `fieldproof collector` processes (started, SIGKILLed and restarted here).
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { enrollDevice, openCollectorDatabase } from '@fieldproof/collector';
import { parseDatabaseUrl } from '@fieldproof/db';
import { MemoryTree, toHex } from '@fieldproof/merkle';
import { generateDeviceKey, signCheckpoint, verifyCosignature } from '@fieldproof/note';
import { leafHashOf } from '@fieldproof/receipt';
import { CLI, freePort, runNode, startChild, waitForHttp } from './processes.mjs';

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its logged seed. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One simulated unit: its key, its tree, its leaves as pushed, its signed checkpoints. */
export class FleetUnit {
  constructor(origin) {
    this.key = generateDeviceKey(origin);
    this.origin = origin;
    this.tree = new MemoryTree();
    this.leaves = [];
    /** @type {Map<number, string>} */
    this.checkpoints = new Map();
    /** @type {Map<number, number>} tree size → when its checkpoint was signed (performance.now ms) */
    this.signedAt = new Map();
    this.acked = 0;
    this.pushKey = '';
    this.cosignature = '';
  }

  /** Records `count` evidence records and signs the checkpoint of the grown tree; returns its size. */
  record(count) {
    const hashes = [];
    for (let i = 0; i < count; i++) {
      const n = this.tree.treeSize + i;
      const record = {
        id: `${this.origin.slice(-12)}-${n}-${Math.random().toString(36).slice(2, 10)}`,
        digest: createHash('sha256').update(`${this.origin} ${n}`).digest('hex'),
        kind: n % 2 === 0 ? 'detection' : 'jamming-operation',
        occurredAt: 1_760_000_000_000 + n,
        receivedAt: 1_760_000_000_500 + n,
        payloadMime: null,
        metadata: n % 3 === 0 ? { n, band: 'L1' } : null,
      };
      const leafHash = leafHashOf(record);
      hashes.push(leafHash);
      this.leaves.push({ leafIndex: n, leafHash: toHex(leafHash), content: false, record });
    }
    this.tree.append(hashes);
    const size = this.tree.treeSize;
    this.checkpoints.set(
      size,
      signCheckpoint({ origin: this.origin, treeSize: size, root: this.tree.root() }, this.key),
    );
    this.signedAt.set(size, performance.now());
    return size;
  }

  /** The push body of checkpoint `to`, leaves and consistency proof from `from`. */
  body(from, to) {
    return {
      checkpoint: this.checkpoints.get(to),
      ...(from > 0
        ? {
            consistency: {
              fromTreeSize: from,
              proof: this.tree.consistencyProof(from, to).map((h) => Buffer.from(h).toString('base64')),
            },
          }
        : {}),
      leaves: this.leaves.slice(from, to),
    };
  }
}

/**
 * `count` collector replicas on one database: the witness key is made once (`fieldproof collector-key`),
 * then each replica is a `fieldproof collector` process on its own port, sharing the database, the data
 * folder and the key. `kill(i)` SIGKILLs replica i; `restart(i)` starts it again on the same port. `env`:
 * more settings for every replica (KEEPER_* for fleet anchoring).
 */
export async function startReplicas({
  count,
  dbUrl,
  dataDir,
  poolMax = 3,
  logLevel = 'warn',
  onLine,
  env: extra = {},
}) {
  const env = {
    COLLECTOR_DB_URL: dbUrl,
    COLLECTOR_DATA_DIR: dataDir,
    COLLECTOR_DB_POOL_MAX: String(poolMax),
    LOG_LEVEL: logLevel,
    ...extra,
  };
  const keys = JSON.parse(await runNode([CLI, 'collector-key', '--json'], env));
  const witnessKey = keys.verifierKey;
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const children = [];
  let starts = 0;
  const start = async (i) => {
    // PGAPPNAME (read by node-postgres): each replica process's connections are told apart in pg_stat_activity.
    const child = startChild(`collector-${i}`, [CLI, 'collector'], {
      env: { ...env, COLLECTOR_PORT: String(ports[i]), PGAPPNAME: `fieldproof-collector-${i}-${++starts}` },
      ...(onLine === undefined ? {} : { onLine: (line) => onLine(i, line) }),
    });
    children[i] = child;
    await waitForHttp(`http://127.0.0.1:${ports[i]}/readyz`, child, 60_000);
  };
  await Promise.all(ports.map((_, i) => start(i)));
  return {
    witnessKey,
    /** The fleet log's note verifier key (`collector-key --json`'s fleetKey). */
    fleetKey: keys.fleetKey,
    urls: ports.map((p) => `http://127.0.0.1:${p}`),
    pids: () => children.map((c) => c.pid),
    kill(i) {
      try {
        process.kill(-children[i].pid, 'SIGKILL');
      } catch {
        // already gone
      }
      return children[i].exited;
    },
    restart: start,
    async stopAll() {
      await Promise.all(children.map((c) => c.stop(5_000)));
    },
  };
}

/**
 * SIGKILLs a running replica every `minMs` to `minMs + spreadMs` (at least one replica stays up) and
 * restarts it after up to `pauseMs`, every choice drawn from `random` (so a seed replays the choices).
 * `stop()` ends the loop, waits until every killed replica is back, and resolves the kills made;
 * `made()` counts the kills so far (a test can wait for the next kill instead of for a time).
 */
export function killAtRandom(replicas, { count, random, minMs, spreadMs, pauseMs }) {
  let running = true;
  const kills = [];
  const down = new Set();
  const restarts = [];
  const killing = (async () => {
    while (running) {
      await sleep(minMs + random() * spreadMs);
      const up = [...Array(count).keys()].filter((i) => !down.has(i));
      if (!running || up.length < 2) continue;
      const i = up[Math.floor(random() * up.length)];
      kills.push(`replica ${i} at ${Math.round(performance.now())} ms`);
      down.add(i);
      await replicas.kill(i);
      const pause = random() * pauseMs;
      restarts.push(
        (async () => {
          await sleep(pause);
          await replicas.restart(i);
          down.delete(i);
        })(),
      );
    }
  })();
  return {
    made: () => kills.length,
    async stop() {
      running = false;
      await killing;
      await Promise.all(restarts);
      return kills;
    },
  };
}

/** Enrolls every unit on the collector's database (the library `fieldproof devices add` calls). */
export async function enrollFleet(dbUrl, units) {
  const collector = await openCollectorDatabase(parseDatabaseUrl(dbUrl, 'COLLECTOR_DB_URL'), {
    postgresPoolMax: 2,
  });
  try {
    for (const unit of units) {
      const enrolled = await enrollDevice(collector, {
        origin: unit.origin,
        verifierKey: unit.key.verifierKey,
        now: Date.now(),
      });
      unit.pushKey = enrolled.pushKey;
    }
  } finally {
    await collector.close();
  }
}

/**
 * Pushes `unit` up to its newest checkpoint through any replica, as the keeper's outbox does: a transport
 * failure or a 5xx (a replica killed mid-push) is retried on another replica after a short pause; a
 * FP_LEAF_GAP re-reads the held head and resends from there; every cosignature is verified. Returns the
 * push-to-cosignature latency (ms from signing the checkpoint to holding its verified cosignature).
 */
export async function pushUnit(unit, { urls, witnessKey, random, stats }) {
  const target = unit.tree.treeSize;
  let from = unit.acked;
  const giveUpAt = performance.now() + 180_000;
  for (let attempt = 0; ; attempt++) {
    if (performance.now() > giveUpAt) {
      throw new Error(`${unit.origin}: gave up pushing ${target} after ${attempt} attempts in 180 s`);
    }
    const url = urls[Math.floor(random() * urls.length)];
    const path = `${url}/v1/devices/${encodeURIComponent(unit.origin)}`;
    let res;
    try {
      res = await fetch(`${path}/push`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${unit.pushKey}`,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        },
        body: gzipSync(JSON.stringify(unit.body(from, target))),
        signal: AbortSignal.timeout(30_000),
      });
    } catch {
      stats.retries++;
      await sleep(50 + random() * 100);
      continue;
    }
    const text = await res.text().catch(() => '');
    if (res.status === 200) {
      const answer = JSON.parse(text);
      if (answer.treeSize !== target)
        throw new Error(`${unit.origin}: answered ${answer.treeSize}, pushed ${target}`);
      verifyCosignature(unit.checkpoints.get(target) + answer.cosignature, witnessKey);
      unit.acked = target;
      unit.cosignature = answer.cosignature;
      stats.pushes++;
      stats.appended += answer.appended;
      return performance.now() - unit.signedAt.get(target);
    }
    if (res.status === 422 && text.includes('FP_LEAF_GAP')) {
      const head = await fetch(path, { headers: { authorization: `Bearer ${unit.pushKey}` } })
        .then((r) => (r.ok ? r.json() : undefined))
        .catch(() => undefined);
      if (head !== undefined) from = Math.min(head.treeSize, target);
      stats.gaps++;
      continue;
    }
    if (res.status >= 500 || res.status === 429) {
      stats.retries++;
      await sleep(50 + random() * 100);
      continue;
    }
    throw new Error(`${unit.origin}: push of ${target} refused: ${res.status} ${text.slice(0, 300)}`);
  }
}

/**
 * Every unit, all at once: `rounds` times records 1…`maxRecords` records, pushes them (pushUnit) and
 * pauses up to `pauseMs`. Resolves the stats.
 */
export async function pushRounds(units, { rounds, maxRecords, pauseMs, replicas, random }) {
  const stats = newStats();
  await Promise.all(
    units.map(async (unit) => {
      for (let round = 0; round < rounds; round++) {
        unit.record(1 + Math.floor(random() * maxRecords));
        await pushUnit(unit, { urls: replicas.urls, witnessKey: replicas.witnessKey, random, stats });
        await sleep(random() * pauseMs);
      }
    }),
  );
  return stats;
}

export function newStats() {
  return { pushes: 0, appended: 0, retries: 0, gaps: 0 };
}

/** The p-th percentile (0–100) of `xs`. */
export function percentile(xs, p) {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
