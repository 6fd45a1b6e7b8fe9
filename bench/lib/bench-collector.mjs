// The fleet collector (issue 15, "Measured"), three `fieldproof collector` replicas on one PostgreSQL
// database of the benchmark's own, fed by simulated units (bench/lib/fleet.mjs: real leaves, real signed
// checkpoints, the keeper's wire format):
//
// - ingest: leaves mirrored per second, all replicas together, against the raw PostgreSQL ceiling for the
//   same rows — the leaves, nodes and checkpoint the collector stored, one INSERT statement per push into
//   tables shaped like its own, over as many connections as the replicas have, in the same run (the
//   fastest of two rounds); and against the leaf rows alone;
// - push-to-cosignature latency: every unit records one record a second and pushes every `interval`;
//   latency is from signing the checkpoint to holding the collector's verified cosignature;
// - recovery point: the most records (and the oldest record's age) a unit held unacknowledged when a push
//   was acknowledged — what it would have lost, destroyed just before — per push interval;
// - catch-up: one unit back after a week offline (a record every 10 s: 60 480 records), pushed in the
//   keeper's batches of 1000 leaves.
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import pg from 'pg';
import {
  FleetUnit,
  enrollFleet,
  newStats,
  percentile,
  pushUnit,
  seededRandom,
  startReplicas,
} from './fleet.mjs';
import { ratio } from './report.mjs';

const REPLICAS = 3;
const POOL_MAX = 3;
const CEILING_ROUNDS = 2;

/** Runs `round` `rounds` times, running `reset` on `client` before each round after the first; the fastest, in s. */
async function fastestOf(rounds, reset, client, round) {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    if (r > 0) await client.query(reset);
    const started = performance.now();
    await round();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return best;
}

/**
 * The PostgreSQL server a section runs on (FIELDPROOF_BENCH_PG_URL, else FIELDPROOF_TEST_PG_URL); without
 * one, the section is reported as skipped and this answers undefined.
 */
export function benchPostgresUrl(report, section) {
  const base = process.env.FIELDPROOF_BENCH_PG_URL ?? process.env.FIELDPROOF_TEST_PG_URL;
  if (base !== undefined && base !== '') return base;
  report.add({
    section,
    measure: 'skipped: needs PostgreSQL (set FIELDPROOF_BENCH_PG_URL or FIELDPROOF_TEST_PG_URL)',
    value: undefined,
    unit: '',
  });
  return undefined;
}

/** A fresh database of our own on the server named by `baseUrl`; returns its URL and a drop function. */
export async function ownDatabase(baseUrl, name) {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

// The load generator shares the two cores with the replicas and PostgreSQL, so it must cost little:
// node:http on kept-alive sockets spends about a third of the CPU per push that fetch (undici) does.
const agent = new http.Agent({ keepAlive: true });

/** POSTs `body` and resolves its status and text. */
function httpPost(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { ...headers, 'content-length': body.length },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(body);
  });
}

async function post(url, unit, bytes) {
  for (;;) {
    const res = await httpPost(
      `${url}/v1/devices/${encodeURIComponent(unit.origin)}/push`,
      {
        authorization: `Bearer ${unit.pushKey}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      bytes,
    );
    if (res.status === 200) return JSON.parse(res.text);
    if (res.status >= 500) continue;
    throw new Error(`push refused: ${res.status} ${res.text.slice(0, 300)}`);
  }
}

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, units: number, rounds: number, batch: number, intervals: number[], latencySeconds: number, weekRecords: number }} size
 */
export async function benchCollector(report, size) {
  const section = 'collector';
  const base = benchPostgresUrl(report, section);
  if (base === undefined) return;
  const details = {};
  report.details[section] = details;

  // ── ingest, against the raw INSERT ceiling ─────────────────────────────────────────────────────────
  {
    const db = await ownDatabase(base, `fp_bench_collector_${process.pid}`);
    const replicas = await startReplicas({
      count: REPLICAS,
      dbUrl: db.url,
      dataDir: path.join(size.dir, 'collector-ingest'),
      poolMax: POOL_MAX,
    });
    try {
      const units = Array.from({ length: size.units }, (_, i) => new FleetUnit(`bench.test/log/unit-${i}`));
      await enrollFleet(db.url, units);
      // Every push prepared before the clock starts: the units' CPU is not the collector's.
      const pushes = units.map((unit) => {
        const bodies = [];
        for (let r = 0; r < size.rounds; r++) {
          const from = unit.tree.treeSize;
          const to = unit.record(size.batch);
          bodies.push(gzipSync(JSON.stringify(unit.body(from, to))));
        }
        return { unit, bodies };
      });
      const started = performance.now();
      let appended = 0;
      await Promise.all(
        pushes.map(async ({ unit, bodies }, i) => {
          for (const bytes of bodies) {
            const answer = await post(replicas.urls[i % REPLICAS], unit, bytes);
            appended += answer.appended; // after the await: `appended += await …` would lose updates
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const ingest = appended / seconds;

      // The same rows, straight into PostgreSQL: multi-row INSERTs of the same batches, 9 connections.
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      await client.query('CREATE TABLE raw_leaves (LIKE device_leaves INCLUDING ALL)');
      const { rows: devices } = await client.query('SELECT id, origin FROM devices');
      await client.end();
      const idOf = new Map(devices.map((d) => [d.origin, d.id]));
      const batches = [];
      for (const { unit } of pushes) {
        for (let from = 0; from < unit.tree.treeSize; from += size.batch) {
          batches.push(
            unit.leaves
              .slice(from, from + size.batch)
              .map((l) => [
                idOf.get(unit.origin),
                l.leafIndex,
                l.leafHash,
                l.record.id,
                l.record.digest,
                JSON.stringify(l.record),
                0,
                Date.now(),
              ]),
          );
        }
      }
      const connections = await Promise.all(
        Array.from({ length: REPLICAS * POOL_MAX }, async () => {
          const c = new pg.Client({ connectionString: db.url });
          // Dropping the database at the end terminates a connection left open by a failure: not an error
          // of its own (the failure is what the section reports).
          c.on('error', () => undefined);
          await c.connect();
          return c;
        }),
      );
      // Each ceiling runs CEILING_ROUNDS times (emptied in between) and its fastest round counts: a ceiling
      // caught by a PostgreSQL checkpoint or a neighbour's burst would flatter the ratio.
      const rawSeconds = await fastestOf(CEILING_ROUNDS, 'TRUNCATE raw_leaves', connections[0], async () => {
        let b = 0;
        await Promise.all(
          connections.map(async (c) => {
            while (b < batches.length) {
              const rows = batches[b++];
              const values = rows
                .map((_, r) => `(${Array.from({ length: 8 }, (_, k) => `$${r * 8 + k + 1}`).join(',')})`)
                .join(',');
              await c.query(
                `INSERT INTO raw_leaves (device_id, leaf_index, leaf_hash, evidence_id, digest, record, content_stored, received_at) VALUES ${values}`,
                rows.flat(),
              );
            }
          }),
        );
      });
      const rows = batches.reduce((n, batch) => n + batch.length, 0);
      if (rows !== appended)
        throw new Error(`the collector appended ${appended} leaves, the ceiling inserted ${rows}`);
      const ceiling = rows / rawSeconds;

      // "The same rows" in full: each push stored its leaves, the tree nodes they completed and the
      // cosigned checkpoint. Read back exactly what the collector stored, grouped by push, and insert each
      // push's rows raw in one statement (one round trip, atomic — as the collector's own append is), two
      // ways: a multi-row VALUES statement, and one prepared statement taking a column array each (unnest).
      // The faster way is the ceiling the target is checked against.
      const same = await samePushRows(connections[0], size.batch);
      const sameWays = {};
      for (const [way, insert] of [
        ['multi-row VALUES', insertPushRows],
        ['prepared unnest', insertPushColumns],
      ]) {
        sameWays[way] = await fastestOf(
          CEILING_ROUNDS,
          'TRUNCATE raw_push_leaves, raw_nodes, raw_checkpoints',
          connections[0],
          async () => {
            let q = 0;
            await Promise.all(
              connections.map(async (c) => {
                while (q < same.length) await insert(c, same[q++]);
              }),
            );
          },
        );
        await connections[0].query('TRUNCATE raw_push_leaves, raw_nodes, raw_checkpoints');
      }
      const [sameWay, sameSeconds] = Object.entries(sameWays).sort((a, b) => a[1] - b[1])[0];
      await Promise.all(connections.map((c) => c.end()));
      const sameLeaves = same.reduce((n, push) => n + push.leaves.length, 0);
      if (sameLeaves !== appended)
        throw new Error(
          `the collector appended ${appended} leaves, the same-rows ceiling inserted ${sameLeaves}`,
        );
      const sameCeiling = sameLeaves / sameSeconds;
      const sameRows = same.reduce((n, p) => n + p.leaves.length + p.nodes.length + p.checkpoints.length, 0);
      Object.assign(details, {
        ingest: {
          units: size.units,
          pushes: size.units * size.rounds,
          leaves: appended,
          seconds,
          rawSeconds,
          sameRows,
          sameSeconds: sameWays,
        },
      });
      report.add({
        section,
        measure: `leaves ingested/s, ${REPLICAS} replicas (${size.units} units × ${size.rounds} pushes of ${size.batch})`,
        value: ingest,
        unit: 'leaves/s',
        peer: `raw INSERTs of the same rows (leaves, nodes, checkpoint: one ${sameWay} statement per push), ${REPLICAS * POOL_MAX} conns, best of ${CEILING_ROUNDS}`,
        peerValue: sameCeiling,
        ratio: ratio(ingest, sameCeiling),
        target: '≥ 0.5×',
        met: ratio(ingest, sameCeiling) >= 0.5,
        note: `${sameRows} rows for ${sameLeaves} leaves (${(sameRows / sameLeaves).toFixed(2)} per leaf), exactly the rows the collector stored; the faster of two ways to insert them`,
      });
      for (const [way, wayS] of Object.entries(sameWays)) {
        if (way === sameWay) continue;
        report.add({
          section,
          measure: 'leaves ingested/s, same run',
          value: ingest,
          unit: 'leaves/s',
          peer: `raw INSERTs of the same rows, one ${way} statement per push (the slower way)`,
          peerValue: sameLeaves / wayS,
          ratio: ratio(ingest, sameLeaves / wayS),
        });
      }
      report.add({
        section,
        measure: 'leaves ingested/s, same run',
        value: ingest,
        unit: 'leaves/s',
        peer: `raw multi-row INSERT of the leaf rows alone, ${REPLICAS * POOL_MAX} conns, best of ${CEILING_ROUNDS}`,
        peerValue: ceiling,
        ratio: ratio(ingest, ceiling),
      });
    } finally {
      await replicas.stopAll();
      await db.drop();
    }
  }

  // ── latency and recovery point, per push interval ──────────────────────────────────────────────────
  for (const interval of size.intervals) {
    const db = await ownDatabase(base, `fp_bench_collector_l${interval}_${process.pid}`);
    const replicas = await startReplicas({
      count: REPLICAS,
      dbUrl: db.url,
      dataDir: path.join(size.dir, `collector-latency-${interval}`),
      poolMax: POOL_MAX,
    });
    try {
      const units = Array.from({ length: size.units }, (_, i) => new FleetUnit(`bench.test/log/lat-${i}`));
      await enrollFleet(db.url, units);
      const random = seededRandom(interval * 7919);
      const stats = newStats();
      const latencies = [];
      const lost = [];
      const lostAge = [];
      const end = performance.now() + size.latencySeconds * 1000;
      // One record a second per unit; a push every `interval` s, units' phases spread over the interval.
      await Promise.all(
        units.map(async (unit) => {
          await sleep(random() * interval * 1000);
          let oldestUnacked;
          while (performance.now() < end) {
            const t = performance.now();
            const records = interval; // one a second since the last push
            oldestUnacked ??= t - interval * 1000;
            unit.record(records);
            const latency = await pushUnit(unit, {
              urls: replicas.urls,
              witnessKey: replicas.witnessKey,
              random,
              stats,
            });
            latencies.push(latency);
            // Just before this ack, the unit held `records` unacknowledged, the oldest since oldestUnacked.
            lost.push(records);
            lostAge.push((performance.now() - oldestUnacked) / 1000);
            oldestUnacked = undefined;
            const wait = interval * 1000 - (performance.now() - t);
            if (wait > 0) await sleep(wait);
          }
        }),
      );
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      details[`latency_${interval}s`] = {
        pushes: latencies.length,
        p50Ms: p50,
        p99Ms: p99,
        maxMs: Math.max(...latencies),
        recoveryPointMaxRecords: Math.max(...lost),
        recoveryPointMaxSeconds: Math.max(...lostAge),
        retries: stats.retries,
      };
      report.add({
        section,
        measure: `push→cosignature p99, ${size.units} units pushing every ${interval} s (${latencies.length} pushes)`,
        value: p99,
        unit: 'ms',
        peer: 'p50',
        peerValue: p50,
        target: '< 2000 ms',
        met: p99 < 2000,
      });
      report.add({
        section,
        measure: `recovery point at a ${interval} s push interval (1 record/s)`,
        value: Math.max(...lostAge),
        unit: 's',
        text: `≤ ${Math.max(...lostAge).toFixed(2)} s (${Math.max(...lost)} records)`,
      });
    } finally {
      await replicas.stopAll();
      await db.drop();
    }
  }

  // ── a week offline, then catch up ─────────────────────────────────────────────────────────────────
  {
    const db = await ownDatabase(base, `fp_bench_collector_week_${process.pid}`);
    const replicas = await startReplicas({
      count: 1,
      dbUrl: db.url,
      dataDir: path.join(size.dir, 'collector-week'),
      poolMax: POOL_MAX,
    });
    try {
      const unit = new FleetUnit('bench.test/log/week-offline');
      await enrollFleet(db.url, [unit]);
      const checkpoints = [];
      while (unit.tree.treeSize < size.weekRecords) {
        checkpoints.push(unit.record(Math.min(1000, size.weekRecords - unit.tree.treeSize)));
      }
      const started = performance.now();
      let from = 0;
      for (const to of checkpoints) {
        await post(replicas.urls[0], unit, gzipSync(JSON.stringify(unit.body(from, to))));
        from = to;
      }
      const seconds = (performance.now() - started) / 1000;
      details.weekOffline = { records: size.weekRecords, pushes: checkpoints.length, seconds };
      report.add({
        section,
        measure: `catch-up after a week offline (${size.weekRecords} records, pushes of 1000)`,
        value: seconds,
        unit: 's',
        text: `${seconds.toFixed(1)} s (${Math.round(size.weekRecords / seconds)} leaves/s, one unit)`,
      });
    } finally {
      await replicas.stopAll();
      await db.drop();
    }
  }
}

/**
 * The rows the collector stored for the ingest run, grouped by push (`batch` leaves each): its leaves, the
 * nodes those leaves completed (node (level L, index i) is completed by leaf (i + 1)·2^L − 1) and the
 * checkpoint it cosigned.
 */
async function samePushRows(client, batch) {
  await client.query('CREATE TABLE raw_push_leaves (LIKE device_leaves INCLUDING ALL)');
  await client.query('CREATE TABLE raw_nodes (LIKE device_nodes INCLUDING ALL)');
  await client.query('CREATE TABLE raw_checkpoints (LIKE device_checkpoints INCLUDING ALL)');
  const pushes = new Map();
  const pushOf = (deviceId, leafIndex) => {
    const key = `${deviceId} ${Math.floor(leafIndex / batch)}`;
    let push = pushes.get(key);
    if (push === undefined) {
      push = { leaves: [], nodes: [], checkpoints: [] };
      pushes.set(key, push);
    }
    return push;
  };
  const leaves = await client.query(
    'SELECT device_id, leaf_index, leaf_hash, evidence_id, digest, record, content_stored, received_at FROM device_leaves',
  );
  for (const r of leaves.rows) pushOf(r.device_id, Number(r.leaf_index)).leaves.push(Object.values(r));
  const nodes = await client.query('SELECT device_id, level, node_index, hash FROM device_nodes');
  for (const r of nodes.rows) {
    const last = (Number(r.node_index) + 1) * 2 ** r.level - 1;
    pushOf(r.device_id, last).nodes.push(Object.values(r));
  }
  const checkpoints = await client.query(
    'SELECT device_id, tree_size, root_hash, signed_note, cosignature, cosigned_at, received_at FROM device_checkpoints WHERE tree_size > 0',
  );
  for (const r of checkpoints.rows)
    pushOf(r.device_id, Number(r.tree_size) - 1).checkpoints.push(Object.values(r));
  return [...pushes.values()];
}

const UNNEST_PUSH = `WITH l AS (
  INSERT INTO raw_push_leaves (device_id, leaf_index, leaf_hash, evidence_id, digest, record, content_stored, received_at)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[])
), n AS (
  INSERT INTO raw_nodes (device_id, level, node_index, hash)
  SELECT * FROM unnest($9::text[], $10::int[], $11::bigint[], $12::text[])
)
INSERT INTO raw_checkpoints (device_id, tree_size, root_hash, signed_note, cosignature, cosigned_at, received_at)
SELECT * FROM unnest($13::text[], $14::bigint[], $15::text[], $16::text[], $17::text[], $18::bigint[], $19::bigint[])`;

/** One push's rows in one prepared statement (fixed text): a column array each, expanded by unnest. */
async function insertPushColumns(client, push) {
  const columns = (rows, width) => Array.from({ length: width }, (_, k) => rows.map((row) => row[k]));
  await client.query({
    name: 'raw_push_columns',
    text: UNNEST_PUSH,
    values: [...columns(push.leaves, 8), ...columns(push.nodes, 4), ...columns(push.checkpoints, 7)],
  });
}

/** One push's rows in one statement: `WITH l AS (INSERT …), n AS (INSERT …) INSERT …`. */
async function insertPushRows(client, push) {
  const params = [];
  const values = (rows) =>
    rows.map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(',')})`).join(',');
  const parts = [
    [
      'raw_push_leaves (device_id, leaf_index, leaf_hash, evidence_id, digest, record, content_stored, received_at)',
      push.leaves,
    ],
    ['raw_nodes (device_id, level, node_index, hash)', push.nodes],
    [
      'raw_checkpoints (device_id, tree_size, root_hash, signed_note, cosignature, cosigned_at, received_at)',
      push.checkpoints,
    ],
  ].filter(([, rows]) => rows.length > 0);
  const statements = parts.map(([table, rows]) => `INSERT INTO ${table} VALUES ${values(rows)}`);
  const last = statements.pop();
  const sql =
    statements.length === 0
      ? last
      : `WITH ${statements.map((st, i) => `w${i} AS (${st})`).join(', ')} ${last}`;
  await client.query(sql, params);
}
