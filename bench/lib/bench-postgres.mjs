// Intake on PostgreSQL (the Azure deployments' engine): the same digest load as the intake section
// against the api on a PostgreSQL database of its own, beside the no-op route in the same rounds and a raw
// multi-row INSERT ceiling of the same rows on the same server. The server: FIELDPROOF_BENCH_PG_URL (any
// database on it; the bench creates `fieldproof_bench_<pid>` there and drops it at the end), else
// FIELDPROOF_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres.
import { newId } from '@fieldproof/db';
import pg from 'pg';
import { load } from './bench-intake.mjs';
import { digestSource } from './bench-log.mjs';
import { ratio } from './report.mjs';
import { createKey, installation, startApi, startNoop } from './servers.mjs';

const COLUMNS =
  'id, digest, kind, source, occurred_at, received_at, payload_mime, payload_size, payload_json, metadata, content_stored';

function serverUrl() {
  return (
    process.env.FIELDPROOF_BENCH_PG_URL ||
    process.env.FIELDPROOF_TEST_PG_URL ||
    'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Raw multi-row inserts (evidence + sequence_queue, one transaction of `rows` rows per loop) from `clients` connections for `ms`. */
async function rawCeiling(url, { clients, rows, ms }) {
  const pool = new pg.Pool({ connectionString: url, max: clients });
  const evidenceSql = `INSERT INTO evidence (${COLUMNS}) VALUES ${Array.from(
    { length: rows },
    (_, r) => `(${Array.from({ length: 11 }, (_, c) => `$${r * 11 + c + 1}`).join(', ')})`,
  ).join(', ')}`;
  const queueSql = `INSERT INTO sequence_queue (evidence_id, enqueued_at) VALUES ${Array.from(
    { length: rows },
    (_, r) => `($${r * 2 + 1}, $${r * 2 + 2})`,
  ).join(', ')}`;
  const next = digestSource();
  let inserted = 0;
  const deadline = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = await pool.connect();
      try {
        while (performance.now() < deadline) {
          const now = Date.now();
          const ids = Array.from({ length: rows }, () => newId());
          const evidence = ids.flatMap((id) => [
            id,
            next(),
            'bench',
            'digest',
            now - 1000,
            now,
            null,
            null,
            null,
            null,
            0,
          ]);
          const queue = ids.flatMap((id) => [id, now]);
          await client.query('BEGIN');
          await client.query(evidenceSql, evidence);
          await client.query(queueSql, queue);
          await client.query('COMMIT');
          inserted += rows;
        }
      } finally {
        client.release();
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await pool.end();
  return { rows: inserted, rowsPerSecond: inserted / seconds };
}

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, seconds: number, rounds: number, concurrencies: number[], ceilingMs: number, warmupRequests: number, nodeArgs?: string[] }} size
 */
export async function benchPostgres(report, size) {
  const server = serverUrl();
  const name = `fieldproof_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL at ${server} is not reachable (set FIELDPROOF_BENCH_PG_URL): ${err.message}`);
  }
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = withDatabase(server, name);
    const inst = installation(size.dir, 'postgres');
    inst.env.API_DB_URL = url;
    const key = await createKey(inst);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const version = (await admin.query('SHOW server_version')).rows[0].server_version;
    const sync = (await admin.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
    const fsync = (await admin.query('SHOW fsync')).rows[0].fsync;

    const ceilingClients = 8;
    const ceilingRows = 64;
    const ceiling = await rawCeiling(url, { clients: ceilingClients, rows: ceilingRows, ms: size.ceilingMs });
    const [api, noop] = await Promise.all([
      startApi(inst, { nodeArgs: size.nodeArgs }),
      startNoop(inst.env.LOG_LEVEL, size.nodeArgs, { env: {} }),
    ]);
    report.add({
      section: 'PostgreSQL',
      measure: `raw multi-row INSERTs, ${ceilingClients} connections × ${ceilingRows} rows/tx`,
      value: ceiling.rowsPerSecond,
      unit: 'rows/s',
      note: `PostgreSQL ${version} at ${new URL(server).host} (fsync=${fsync}, synchronous_commit=${sync}), database ${name}; a row = evidence + sequence_queue insert, as the api writes per digest; node-postgres, parameterised multi-row INSERT … VALUES, BEGIN … COMMIT`,
    });
    const details = { server: new URL(server).host, version, ceiling, runs: [] };
    report.details.postgres = details;
    for (const c of size.concurrencies) {
      const makeBody = (() => {
        const next = digestSource();
        return () => JSON.stringify({ digest: next(), kind: 'bench', occurredAt: Date.now() });
      })();
      if (size.warmupRequests > 0) {
        await load({ url: api.url, connections: c, amount: size.warmupRequests, headers, makeBody });
      }
      const apiRuns = [];
      const peerRuns = [];
      for (let round = 0; round < size.rounds; round++) {
        peerRuns.push(
          await load({ url: noop.url, connections: c, seconds: size.seconds, headers, makeBody }),
        );
        const run = await load({ url: api.url, connections: c, seconds: size.seconds, headers, makeBody });
        const other = Object.keys(run.status).filter((code) => code !== '201');
        if (other.length > 0 || run.errors > 0 || run.timeouts > 0) {
          throw new Error(
            `api on PostgreSQL c=${c}: ${JSON.stringify(run.status)}, ${run.errors} errors, ${run.timeouts} timeouts`,
          );
        }
        apiRuns.push(run);
      }
      const median = (runs, pick) => runs.map(pick).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
      const rate = median(apiRuns, (r) => r.requestsPerSecond);
      const peerRate = median(peerRuns, (r) => r.requestsPerSecond);
      details.runs.push({ concurrency: c, api: apiRuns, noop: peerRuns });
      report.add({
        section: 'PostgreSQL',
        measure: `POST /v1/evidence (digest) on PostgreSQL, ${c} connections`,
        value: rate,
        unit: 'req/s',
        peer: `raw multi-row INSERTs (ceiling above)`,
        peerValue: ceiling.rowsPerSecond,
        peerUnit: 'rows/s',
        ratio: ratio(rate, ceiling.rowsPerSecond),
        note: `p50 / p99 ${median(apiRuns, (r) => r.p50)} / ${median(apiRuns, (r) => r.p99)} ms; median of ${size.rounds} rounds of ${size.seconds} s`,
      });
      report.add({
        section: 'PostgreSQL',
        measure: `  vs the no-op route, ${c} connections`,
        value: rate,
        unit: 'req/s',
        peer: 'no-op fastify route, same schema',
        peerValue: peerRate,
        ratio: ratio(rate, peerRate),
      });
    }
    await Promise.all([api.child.stop(), noop.child.stop()]);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}
