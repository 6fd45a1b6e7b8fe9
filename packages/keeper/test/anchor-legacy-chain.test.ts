import { describe, expect, it } from 'vitest';
import { Transaction } from 'ethers';
import type { Database } from '@fieldproof/db';
import type { KeeperTask } from '@fieldproof/keeper';
import { createAnchoring } from '../src/anchor/index.js';
import { databaseForTest } from '../../../test/support/databases.js';
import { HARDHAT_ACCOUNTS, useHardhatNode } from '../../../test/support/hardhat.js';
import {
  CapturedLogs,
  TestClock,
  anchorDeps,
  appendCheckpoint,
  driveUntil,
  jobsOf,
  txsOf,
} from '../../../test/support/anchor-fixtures.js';
import { closedAfterTest } from '../../../test/support/lifetime.js';

/**
 * A pre-London chain (hardhat with hardfork 'berlin'): no base fee, so anchors are legacy (EIP-155)
 * transactions priced by eth_gasPrice; and no `finalized` tag (hardhat answers an error), so finality
 * 'auto' falls back to confirmations while 'tag' keeps waiting.
 */

const SIGNER = HARDHAT_ACCOUNTS[0];
const node = useHardhatNode({ hardfork: 'berlin' }, { snapshots: true });

async function setup(
  finality: 'auto' | 'tag',
  extra: { stuckAfterMs?: number; maxFeePerGasGwei?: number } = {},
) {
  const database = await databaseForTest('sqlite');
  const clock = new TestClock();
  const logs = new CapturedLogs();
  const deps = anchorDeps({
    database,
    chains: [{ name: 'old', rpcUrl: node.url, chainId: 31337, confirmations: 2, finality, ...extra }],
    signerKey: SIGNER.privateKey,
    clock,
    logs,
  });
  return { database, clock, logs, deps, anchoring: closedAfterTest(createAnchoring(deps)) };
}

/** Drives the tasks, mining a block before each look, until the first job is in `state`. */
async function mineUntil(tasks: readonly KeeperTask[], database: Database, clock: TestClock, state: string) {
  await driveUntil(
    tasks,
    async () => {
      await node.mine();
      return (await jobsOf(database))[0]?.state === state;
    },
    { clock },
  );
}

describe('a chain without EIP-1559 and without the finalized tag', () => {
  it("anchors with a legacy transaction and, with finality 'auto', is final at its confirmations", async () => {
    const { database, clock, anchoring } = await setup('auto');
    await appendCheckpoint(database, 2, { now: clock.value });
    await mineUntil(anchoring.tasks, database, clock, 'final');
    const [tx] = await txsOf(database, 'old');
    const parsed = Transaction.from(tx!.raw_tx);
    expect(parsed.type).toBe(0);
    expect(parsed.chainId).toBe(31337n); // EIP-155 replay protection
    expect(tx!.max_fee_per_gas).toBe(tx!.max_priority_fee_per_gas); // the gas price, in both columns
    expect(parsed.gasPrice?.toString()).toBe(tx!.max_fee_per_gas);
  });

  it("with finality 'tag' stays confirmed, and says once why", async () => {
    const { database, clock, logs, anchoring } = await setup('tag');
    await appendCheckpoint(database, 1, { now: clock.value });
    await mineUntil(anchoring.tasks, database, clock, 'confirmed');
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await node.mine();
      for (const t of anchoring.tasks) await t.runOnce();
    }
    expect((await jobsOf(database))[0]!.state).toBe('confirmed');
    const warnings = logs.entries().filter((e) => String(e.msg).includes("'finalized' block tag"));
    expect(warnings).toHaveLength(1);
  });

  it('replaces a stuck legacy transaction with a ≥12.5 % higher gas price, same nonce', async () => {
    const { database, clock, anchoring } = await setup('auto', { stuckAfterMs: 5000 });
    await node.setAutomine(false);
    await appendCheckpoint(database, 1, { now: clock.value });
    await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'broadcast', {
      clock,
    });
    clock.advance(5000);
    for (const t of anchoring.tasks) await t.runOnce();
    const [first, second] = await txsOf(database, 'old');
    expect([first!.state, second!.state]).toEqual(['replaced', 'broadcast']);
    expect(second!.nonce).toBe(first!.nonce);
    expect(BigInt(second!.max_fee_per_gas) * 8n).toBeGreaterThanOrEqual(BigInt(first!.max_fee_per_gas) * 9n);
    expect(Transaction.from(second!.raw_tx).type).toBe(0);
    await node.mine();
    await node.setAutomine(true);
    await mineUntil(anchoring.tasks, database, clock, 'final');
    const onChain = await node.transactionsFrom(SIGNER.address);
    expect(onChain.map((t) => t.hash)).toEqual([second!.tx_hash]);
  });
});
