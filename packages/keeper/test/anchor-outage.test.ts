import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnchorPayload } from '@fieldproof/receipt';
import type { Database } from '@fieldproof/db';
import { createAnchoring } from '../src/anchor/index.js';
import { createTestDatabase, dropTestDatabases } from '../../../test/support/databases.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, type HardhatNode } from '../../../test/support/hardhat.js';
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy.js';
import {
  TestClock,
  allJobsIn,
  anchorDeps,
  appendCheckpoint,
  jobsOf,
  startTaskLoops,
  txsOf,
  waitFor,
} from '../../../test/support/anchor-fixtures.js';

/**
 * The keeper cut off from its RPC node by a TCP proxy, on the real clock with the task loops running as
 * the keeper runs them: it backs off without spinning, checkpoints keep being written, readiness
 * reports the outage, and everything is anchored once the node is back.
 */

const SIGNER = HARDHAT_ACCOUNTS[0];
let node: HardhatNode;
let proxy: TcpProxy;
let database: Database;

beforeAll(async () => {
  node = await startHardhatNode();
  proxy = await startTcpProxy({ port: node.port });
  database = await createTestDatabase('sqlite');
});
afterAll(async () => {
  await proxy?.close();
  await node?.stop();
  await database?.close();
  await dropTestDatabases();
});

function outageDeps(clock = new TestClock()) {
  return anchorDeps({
    database,
    chains: [{ name: 'local', rpcUrl: proxy.url, chainId: 31337, confirmations: 1 }],
    signerKey: SIGNER.privateKey,
    env: {
      KEEPER_POLL_MS: '50',
      KEEPER_CONFIRM_POLL_MS: '50',
      KEEPER_RPC_TIMEOUT_MS: '300',
      KEEPER_BACKOFF_BASE_MS: '100',
      KEEPER_BACKOFF_MAX_MS: '800',
      KEEPER_RPC_DOWN_READY_MS: '1000',
    },
    clock,
  });
}

describe('RPC outage', () => {
  it('backs off without spinning while the node is unreachable, and anchors everything after it returns', async () => {
    const realClock = { value: 0, now: () => Date.now(), advance: () => undefined } as unknown as TestClock;
    const deps = outageDeps(realClock);
    const anchoring = createAnchoring(deps);
    const loops = startTaskLoops(anchoring.tasks, deps.config.keeper.pollMs);
    try {
      await appendCheckpoint(database, 2);
      await waitFor(() => allJobsIn(database, 'final'), 15_000, 'first anchor final');
      expect(anchoring.readiness().ok).toBe(true);

      // Cut the node off for 3 s; checkpoints keep being written meanwhile.
      proxy.pause('refuse');
      const connectionsBefore = proxy.connections;
      const roundsBefore = { ...loops.counts.get('anchor:local')! };
      const outageMs = 3000;
      const started = Date.now();
      const writeTimes: number[] = [];
      while (Date.now() - started < outageMs) {
        const t0 = Date.now();
        await appendCheckpoint(database, 1);
        writeTimes.push(Date.now() - t0);
        await new Promise((r) => setTimeout(r, 300));
      }
      const readinessDuringOutage = anchoring.readiness();
      const rounds = loops.counts.get('anchor:local')!;
      const attempts = proxy.connections - connectionsBefore;
      const busyRounds = rounds.busy - roundsBefore.busy;
      const allRounds = rounds.rounds - roundsBefore.rounds;
      console.log(
        `[anchor] ${outageMs} ms outage: ${attempts} connection attempts, ${allRounds} runOnce rounds (${busyRounds} with work), slowest checkpoint write ${Math.max(...writeTimes)} ms`,
      );
      // Capped exponential backoff (100 ms … 800 ms, jittered): a handful of attempts, not a loop.
      expect(attempts).toBeGreaterThan(0);
      expect(attempts).toBeLessThanOrEqual(15);
      expect(busyRounds).toBeLessThanOrEqual(attempts);
      expect(allRounds).toBeLessThanOrEqual(outageMs / deps.config.keeper.pollMs + 10);
      expect(Math.max(...writeTimes)).toBeLessThan(1000);
      expect(readinessDuringOutage.ok).toBe(false);
      expect(readinessDuringOutage.detail).toMatch(/local: RPC failing for \d+ s/);
      const pendingDuringOutage = (await jobsOf(database)).filter((j) => j.state !== 'final');
      expect(pendingDuringOutage.length).toBeGreaterThan(0); // the scheduler kept creating jobs
      expect(await deps.registry.getSingleMetricAsString('fieldproof_chain_rpc_errors_total')).toMatch(
        /kind="transport"\} [1-9]/,
      );

      proxy.resume();
      await waitFor(() => allJobsIn(database, 'final'), 20_000, 'all anchors final after the outage');
      expect(anchoring.readiness().ok).toBe(true);
      const jobs = await jobsOf(database);
      const txs = await txsOf(database, 'local');
      const onChain = await node.transactionsFrom(SIGNER.address);
      expect(onChain).toHaveLength(jobs.length); // one anchor transaction per job, no duplicates
      expect(onChain.map((t) => decodeAnchorPayload(t.input).treeSize)).toEqual(jobs.map((j) => j.tree_size));
      expect(txs.filter((t) => t.state === 'final')).toHaveLength(jobs.length);
      const newest = jobs[jobs.length - 1]!;
      const [{ n }] = (await database.db
        .selectFrom('log_checkpoints')
        .select((eb) => eb.fn.max('tree_size').as('n'))
        .execute()) as [{ n: number }];
      expect(newest.tree_size).toBe(Number(n)); // every leaf so far is anchored
    } finally {
      await loops.stop();
      await anchoring.close();
    }
  });

  it('treats a send whose answer is lost as unknown, and reconciles by hash instead of signing again', async () => {
    const deps = outageDeps({ now: () => Date.now() } as unknown as TestClock);
    const anchoring = createAnchoring(deps, {
      atPoint(point) {
        // The request will reach the node (which mines it at once) but its answer never comes back.
        if (point === 'after-persist') proxy.pause('swallow');
      },
    });
    const startBlock = (await node.blockNumber()) + 1;
    await appendCheckpoint(database, 1);
    const [scheduler, worker] = anchoring.tasks;
    await scheduler!.runOnce();
    await worker!.runOnce();
    const [stuck] = (await txsOf(database, 'local')).slice(-1);
    expect(stuck!.state).toBe('signed'); // the outcome is unknown: nothing recorded beyond the bytes
    const job = (await jobsOf(database)).find((j) => j.id === stuck!.job_id)!;
    expect(job.last_error).toMatch(/^RPC unreachable: eth_sendRawTransaction: no answer within 300 ms/);
    expect(job.attempts).toBe(0);
    const onChain = await node.transactionsFrom(SIGNER.address, startBlock);
    expect(onChain.map((t) => t.hash)).toEqual([stuck!.tx_hash]); // it did reach the chain

    proxy.resume();
    const loops = startTaskLoops(anchoring.tasks, deps.config.keeper.pollMs);
    try {
      await waitFor(() => allJobsIn(database, 'final'), 15_000, 'reconciled anchor final');
    } finally {
      await loops.stop();
      await anchoring.close();
    }
    const rows = (await txsOf(database, 'local')).filter((t) => t.job_id === stuck!.job_id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tx_hash).toBe(stuck!.tx_hash);
    expect(await node.transactionsFrom(SIGNER.address, startBlock)).toHaveLength(1);
  });
});
