// A unit offline for a month: records arrive at one per second of simulated time (30 days ≈ 2.6 million)
// while the chain's RPC is unreachable; the real api and keeper run beside it (the keeper sequencing,
// with an evm chain configured whose RPC port nothing answers on). Then the RPC comes back (a hardhat node
// starts on that port) and the keeper anchors the whole backlog: one anchor transaction, followed to final.
//
// The records go in through the database layer in bulk (bench-log.mjs rawInserter: the api's rows for a
// digest, 256 per transaction, on the product's openSqlite connection), not through HTTP — 2.6 million
// requests would measure intake, which the intake section does. Their received_at comes from an injected
// clock: 30 days ago + one second per record. The keeper runs on wall-clock time.
//
// Reports: database size per million records (after a TRUNCATE checkpoint), the sequencer's rate against
// the 1 record/s it must sustain, api and keeper resident memory (max, sampled), the time from the RPC
// coming back to the anchor reading final, and how many anchor transactions were sent (must be 1).
import fs from 'node:fs';
import { loadConfig } from '@fieldproof/config';
import { openSqlite } from '@fieldproof/db';
import { CHAIN_ID, SIGNER_KEY, rpc, startHardhat } from './bench-anchoring.mjs';
import { GROUP_COMMIT_BATCH, digestSource, rawInserter } from './bench-log.mjs';
import { freePort, rssBytes, sampleRss } from './processes.mjs';
import { ratio } from './report.mjs';
import {
  createKey,
  getJson,
  installation,
  sequenceBacklog,
  startApi,
  startKeeper,
  waitFor,
} from './servers.mjs';

const MB = 1024 * 1024;
const DAY_MS = 86_400_000;

/**
 * @param {{ dir: string, records: number, chunk: number, nodeArgs?: string[], confirmations?: number, log?: (line: string) => void }} size
 */
export async function runOffline(size) {
  const log = size.log ?? (() => undefined);
  const confirmations = size.confirmations ?? 2;
  const inst = installation(size.dir, 'offline');
  const key = await createKey(inst);
  const rpcPort = await freePort(); // nothing listens here until the RPC "comes back"
  const rpcUrl = `http://127.0.0.1:${rpcPort}`;
  const keeperEnv = {
    KEEPER_PROVIDER: 'evm',
    KEEPER_CHAINS: JSON.stringify([{ name: 'local', rpcUrl, chainId: CHAIN_ID, confirmations }]),
    KEEPER_SIGNER_KEY: SIGNER_KEY,
    KEEPER_POLL_MS: '250',
    KEEPER_CONFIRM_POLL_MS: '250',
    // Retry the unreachable RPC at most every 2 s (default: backoff up to 10 min), so that the time to
    // anchor after it comes back measures the anchoring, not the last backoff wait.
    KEEPER_BACKOFF_MAX_MS: '2000',
    KEEPER_BACKOFF_BASE_MS: '250',
    KEEPER_MAX_ATTEMPTS: '1000000',
    KEEPER_RPC_TIMEOUT_MS: '2000',
  };
  const api = await startApi(inst, { nodeArgs: size.nodeArgs });
  const keeper = await startKeeper(inst, { env: keeperEnv, nodeArgs: size.nodeArgs });
  const memory = sampleRss([api.child.pid, keeper.child.pid], 250);
  try {
    return await simulate();
  } catch (err) {
    const jobs = await getJson(`${api.url}/v1/anchors?limit=20`, key).catch(() => undefined);
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}\nanchor jobs: ${JSON.stringify(jobs?.items)}\nkeeper output (tail):\n${keeper.child.output().slice(-3000)}`,
      { cause: err },
    );
  } finally {
    memory.stop();
  }

  async function simulate() {
    const apiIdle = rssBytes(api.child.pid);
    const keeperIdle = rssBytes(keeper.child.pid);

    const { config } = loadConfig({ API_DB_URL: inst.env.API_DB_URL, LOG_LEVEL: 'silent' }, size.dir);
    const raw = openSqlite(inst.dbFile, config.database.sqlite);
    const start = Date.now() - 30 * DAY_MS;
    let t = 0;
    const insert = rawInserter(raw, digestSource(), { clock: () => start + 1000 * t++ });
    const chunks = [];
    const began = performance.now();
    let maxBacklog = 0;
    for (let done = 0; done < size.records;) {
      const n = Math.min(size.chunk, size.records - done);
      const t0 = performance.now();
      for (let k = 0; k < n; k += GROUP_COMMIT_BATCH) insert(Math.min(GROUP_COMMIT_BATCH, n - k));
      const inserted = performance.now();
      done += n;
      maxBacklog = Math.max(maxBacklog, await sequenceBacklog(api.url, key));
      // The keeper sequences while the next chunk goes in; wait only when it falls a chunk behind.
      await waitFor(
        'the keeper to keep up',
        async () => ((await sequenceBacklog(api.url, key)) <= size.chunk ? true : undefined),
        { timeoutMs: 600_000, everyMs: 100 },
      );
      chunks.push({ records: n, insertMs: inserted - t0, totalMs: performance.now() - t0 });
      if (chunks.length % 10 === 0 || done === size.records) {
        log(
          `offline: ${done.toLocaleString('en-US')} records (${((done / 86_400) * 1).toFixed(1)} simulated days), ${((performance.now() - began) / 1000).toFixed(0)} s`,
        );
      }
    }
    await waitFor(
      'the keeper to sequence everything',
      async () => ((await sequenceBacklog(api.url, key)) === 0 ? true : undefined),
      {
        timeoutMs: 600_000,
        everyMs: 100,
      },
    );
    const sequencedMs = performance.now() - began;
    // Anchoring attempts so far: the RPC was unreachable, so no transaction can have been sent.
    const before = await getJson(`${api.url}/v1/anchors?limit=100`, key);
    const sentWhileOffline = before.items.filter((j) => j.txHash !== null).length;

    raw.pragma('wal_checkpoint(TRUNCATE)');
    const dbBytes = ['', '-wal', '-shm'].reduce((sum, s) => {
      try {
        return sum + fs.statSync(inst.dbFile + s).size;
      } catch {
        return sum;
      }
    }, 0);
    raw.close();

    // The RPC comes back.
    const back = performance.now();
    const chain = await startHardhat(rpcPort);
    await rpc(chain.url, 'evm_setIntervalMining', [1_000]);
    const final = await waitFor(
      'one anchor covering the backlog to be final',
      async () => {
        const page = await getJson(`${api.url}/v1/anchors?state=final&order=desc&limit=1`, key);
        const top = page.items[0];
        return top !== undefined && top.treeSize >= size.records ? top : undefined;
      },
      { timeoutMs: 300_000, everyMs: 250 },
    );
    const anchorMs = performance.now() - back;
    const after = await getJson(`${api.url}/v1/anchors?limit=100`, key);
    const sent = after.items.filter((j) => j.txHash !== null);
    const rss = memory.stop();
    const result = {
      records: size.records,
      simulatedDays: size.records / 86_400,
      dbBytes,
      dbBytesPerMillion: (dbBytes / size.records) * 1e6,
      sequencedMs,
      sequencerRate: size.records / (sequencedMs / 1000),
      maxBacklog,
      sentWhileOffline,
      anchorsSent: sent.length,
      finalAnchor: final,
      anchorMs,
      jobs: after.items.map((j) => ({
        treeSize: j.treeSize,
        state: j.state,
        attempts: j.attempts,
        txHash: j.txHash,
      })),
      rss: {
        apiIdle,
        keeperIdle,
        apiMax: rss.get(api.child.pid),
        keeperMax: rss.get(keeper.child.pid),
      },
      chunks,
    };
    await Promise.all([keeper.child.stop(), api.child.stop()]);
    await chain.child.stop();
    return result;
  }
}

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, records: number, chunk: number, nodeArgs?: string[] }} size
 */
export async function benchOffline(report, size) {
  const r = await runOffline({ ...size, log: (line) => process.stdout.write(`\n    ${line}`) });
  report.details.offline = r;
  const days = r.simulatedDays.toFixed(1);
  report.add({
    section: 'offline month',
    measure: `sequencer while the RPC is unreachable, ${r.records.toLocaleString('en-US')} records (${days} days at 1/s)`,
    value: r.sequencerRate,
    unit: 'records/s',
    peer: 'arrival rate it must sustain',
    peerValue: 1,
    ratio: r.sequencerRate,
    target: '≥ 1× (keeps up)',
    met: r.sequencerRate >= 1,
    note: `records inserted through the database layer in bulk (bench-log.mjs rawInserter, ${GROUP_COMMIT_BATCH} per transaction, received_at from an injected clock: one second apart, starting 30 days ago), not HTTP; the real api and keeper run beside it (unit settings); backlog at most ${r.maxBacklog.toLocaleString('en-US')}; ${(r.sequencedMs / 1000).toFixed(0)} s wall-clock for insert + sequence`,
  });
  report.add({
    section: 'offline month',
    measure: 'database size per million records (sequenced, WAL checkpointed)',
    value: r.dbBytesPerMillion / MB,
    unit: 'MB',
    note: `${(r.dbBytes / MB).toFixed(0)} MB for ${r.records.toLocaleString('en-US')} records (database + -wal + -shm after wal_checkpoint(TRUNCATE))`,
  });
  for (const [name, max, idle] of [
    ['keeper', r.rss.keeperMax, r.rss.keeperIdle],
    ['api', r.rss.apiMax, r.rss.apiIdle],
  ]) {
    report.add({
      section: 'offline month',
      measure: `${name} resident memory, max over the month`,
      value: max / MB,
      unit: 'MB',
      peer: `${name}, idle`,
      peerValue: idle / MB,
      ratio: ratio(max, idle),
      target: '≤ 160 MB',
      met: max <= 160 * MB,
    });
  }
  report.add({
    section: 'offline month',
    measure: 'RPC back → one anchor covering the backlog reads final',
    value: r.anchorMs,
    unit: 'ms',
    target: 'one anchor transaction',
    met: r.anchorsSent === 1 && r.sentWhileOffline === 0,
    note: `hardhat on the RPC port that was dark (interval mining 1 s, 2 confirmations); anchor transactions sent: ${r.anchorsSent} (${r.sentWhileOffline} while offline); final anchor tree size ${r.finalAnchor.treeSize.toLocaleString('en-US')}; jobs: ${r.jobs.map((j) => `${j.treeSize}:${j.state}/${j.attempts}`).join(', ')}; KEEPER_BACKOFF_MAX_MS=2000 so the last retry wait is short`,
  });
}
