import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnchorPayload } from '@fieldproof/receipt';
import type { Database } from '@fieldproof/db';
import { createAnchoring } from '../src/anchor/index.js';
import { createTestDatabase } from '../../../test/support/databases.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, type HardhatNode } from '../../../test/support/hardhat.js';
import { startTcpProxy, type TcpProxy } from '../../../test/support/tcp-proxy.js';
import {
  TestClock,
  allJobsIn,
  anchorDeps,
  appendCheckpoint,
  driveUntil,
  jobsOf,
  playTaskLoops,
  txsOf,
} from '../../../test/support/anchor-fixtures.js';

/**
 * The keeper cut off from its RPC node by a TCP proxy, with the task loops played as the keeper runs them
 * on a test clock: it backs off without spinning, checkpoints keep being written, readiness reports the
 * outage, and everything is anchored once the node is back.
 */

const SIGNER = HARDHAT_ACCOUNTS[0];
let node: HardhatNode;
let proxy: TcpProxy;
let database: Database;
/** One test clock for both tests: the second starts where the first left the anchors' timestamps. */
const clock = new TestClock();

beforeAll(async () => {
  node = await startHardhatNode();
  proxy = await startTcpProxy({ port: node.port });
  database = await createTestDatabase('sqlite');
});
afterAll(async () => {
  await proxy?.close();
  await node?.stop();
  await database?.close();
});

function outageDeps(clock: TestClock) {
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
    // The outage is 3 s of the test clock, so it holds on a loaded machine: backoff, readiness and the
    // poll intervals all read deps.now; only the refused connections are real.
    const deps = outageDeps(clock);
    const anchoring = createAnchoring(deps, { random: () => 0.5 });
    const pollMs = deps.config.keeper.pollMs;
    try {
      await appendCheckpoint(database, 2);
      await driveUntil(anchoring.tasks, () => allJobsIn(database, 'final'), {
        clock,
        stepMs: pollMs,
        label: 'first anchor final',
      });
      expect(anchoring.readiness().ok).toBe(true);

      // Cut the node off for 3 s; checkpoints keep being written meanwhile (one every 300 ms).
      proxy.pause('refuse');
      const connectionsBefore = proxy.connections;
      const outageMs = 3000;
      const writeTimes: number[] = [];
      let written = 0;
      const counts = await playTaskLoops(anchoring.tasks, clock, {
        forMs: outageMs,
        defaultIdleMs: pollMs,
        async between(elapsedMs) {
          if (elapsedMs < written * 300) return;
          written += 1;
          const t0 = performance.now();
          await appendCheckpoint(database, 1);
          writeTimes.push(performance.now() - t0);
        },
      });
      const readinessDuringOutage = anchoring.readiness();
      const rounds = counts.get('anchor:local')!;
      const attempts = proxy.connections - connectionsBefore;
      console.log(
        `[anchor] ${outageMs} ms outage (test clock): ${attempts} connection attempts, ${rounds.rounds} runOnce rounds (${rounds.busy} with work), ${written} checkpoints written, slowest write ${Math.round(Math.max(...writeTimes))} ms (wall clock, not asserted)`,
      );
      // Capped exponential backoff (100 ms … 800 ms, jittered): a handful of attempts, not a loop.
      expect(written).toBe(10);
      expect(attempts).toBeGreaterThan(0);
      expect(attempts).toBeLessThanOrEqual(15);
      expect(rounds.busy).toBeLessThanOrEqual(attempts);
      expect(rounds.rounds).toBeLessThanOrEqual(outageMs / pollMs + 10);
      expect(readinessDuringOutage.ok).toBe(false);
      expect(readinessDuringOutage.detail).toMatch(/local: RPC failing for \d+ s/);
      const pendingDuringOutage = (await jobsOf(database)).filter((j) => j.state !== 'final');
      expect(pendingDuringOutage.length).toBeGreaterThan(0); // the scheduler kept creating jobs
      expect(await deps.registry.getSingleMetricAsString('fieldproof_chain_rpc_errors_total')).toMatch(
        /kind="transport"\} [1-9]/,
      );

      proxy.resume();
      await driveUntil(anchoring.tasks, () => allJobsIn(database, 'final'), {
        clock,
        stepMs: pollMs,
        maxRounds: 400,
        label: 'all anchors final after the outage',
      });
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
      await anchoring.close();
    }
  });

  it('treats a send whose answer is lost as unknown, and reconciles by hash instead of signing again', async () => {
    const deps = outageDeps(clock);
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
    try {
      await driveUntil(anchoring.tasks, () => allJobsIn(database, 'final'), {
        clock,
        stepMs: deps.config.keeper.pollMs,
        maxRounds: 400,
        label: 'reconciled anchor final',
      });
    } finally {
      await anchoring.close();
    }
    const rows = (await txsOf(database, 'local')).filter((t) => t.job_id === stuck!.job_id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tx_hash).toBe(stuck!.tx_hash);
    expect(await node.transactionsFrom(SIGNER.address, startBlock)).toHaveLength(1);
  });
});
