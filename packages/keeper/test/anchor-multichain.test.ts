import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '@fieldproof/merkle';
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
  txsOf,
} from '../../../test/support/anchor-fixtures.js';

const SIGNER = HARDHAT_ACCOUNTS[0];
let alpha: HardhatNode;
let beta: HardhatNode;
let betaProxy: TcpProxy;
let database: Database;

beforeAll(async () => {
  [alpha, beta] = await Promise.all([
    startHardhatNode({ chainId: 31337 }),
    startHardhatNode({ chainId: 31338 }),
  ]);
  betaProxy = await startTcpProxy({ port: beta.port });
  database = await createTestDatabase('sqlite');
});
afterAll(async () => {
  await betaProxy?.close();
  await Promise.all([alpha?.stop(), beta?.stop()]);
  await database?.close();
});

describe('several chains at once (provider multi)', () => {
  it('anchors each checkpoint on both chains, one job per checkpoint and chain; one chain down does not hold up the other', async () => {
    const clock = new TestClock();
    const deps = anchorDeps({
      database,
      chains: [
        { name: 'alpha', rpcUrl: alpha.url, chainId: 31337, confirmations: 1 },
        { name: 'beta', rpcUrl: betaProxy.url, chainId: 31338, confirmations: 2 },
      ],
      signerKey: SIGNER.privateKey,
      clock,
      env: { KEEPER_RPC_TIMEOUT_MS: '500' },
    });
    expect(deps.config.keeper.provider).toBe('multi');
    const anchoring = createAnchoring(deps);
    expect(anchoring.tasks.map((t) => t.name)).toEqual(['anchor-scheduler', 'anchor:alpha', 'anchor:beta']);

    const first = await appendCheckpoint(database, 3, { now: clock.value });
    await driveUntil(
      anchoring.tasks,
      async () => {
        await beta.mine(); // beta wants two confirmations
        return allJobsIn(database, 'final');
      },
      { clock },
    );
    expect((await jobsOf(database)).map((j) => [j.chain, j.chain_id, j.tree_size, j.state])).toEqual([
      ['alpha', 31337, 3, 'final'],
      ['beta', 31338, 3, 'final'],
    ]);

    // beta is unreachable: alpha anchors the next checkpoint regardless.
    betaProxy.pause('refuse');
    const second = await appendCheckpoint(database, 2, { now: clock.value });
    const alphaDone = async () =>
      (await jobsOf(database, 'alpha')).map((j) => j.state).join() === 'final,final';
    await driveUntil(anchoring.tasks, alphaDone, { clock });
    expect((await jobsOf(database, 'beta')).map((j) => j.state)).toEqual(['final', 'pending']);
    clock.advance(deps.config.keeper.rpcDownReadyMs + 1);
    expect(anchoring.readiness()).toMatchObject({ ok: false });
    expect(anchoring.readiness().detail).toMatch(/alpha: ok( \(finalized block [^)]*\))?; beta: RPC failing/);

    betaProxy.resume();
    await driveUntil(
      anchoring.tasks,
      async () => {
        await beta.mine();
        return allJobsIn(database, 'final');
      },
      { clock, stepMs: 5000 },
    );
    expect(anchoring.readiness().ok).toBe(true);

    for (const [node, chain] of [
      [alpha, 'alpha'],
      [beta, 'beta'],
    ] as const) {
      const onChain = await node.transactionsFrom(SIGNER.address);
      const payloads = onChain.map((t) => decodeAnchorPayload(t.input));
      expect(payloads.map((p) => p.treeSize)).toEqual([first.treeSize, second.treeSize]);
      expect(payloads.map((p) => toHex(p.root))).toEqual([first.rootHash, second.rootHash]);
      const txs = await txsOf(database, chain);
      expect(txs.map((t) => t.tx_hash)).toEqual(onChain.map((t) => t.hash));
      expect(new Set(txs.map((t) => t.chain_id))).toEqual(new Set([node.chainId]));
    }
    await anchoring.close();
  });
});
