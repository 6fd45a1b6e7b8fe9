import { Wallet } from 'ethers';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createKeeper } from '@fieldproof/keeper';
import type { Keeper } from '@fieldproof/keeper';
import { calldataGasUpperBound, createAnchoring } from '../src/anchor/index.js';
import { encodeAnchorPayload } from '@fieldproof/receipt';
import { hexlify } from 'ethers';
import { databaseForTest, testEngines } from '../../../test/support/databases.js';
import { useHardhatNode } from '../../../test/support/hardhat.js';
import {
  CapturedLogs,
  TestClock,
  anchorDeps,
  appendCheckpoint,
  driveUntil,
  jobsOf,
} from '../../../test/support/anchor-fixtures.js';
import { testDevice } from './support.js';

// An unfunded anchoring signer fails every broadcast ("insufficient funds") and is retried while the
// keeper looked ready. Now /readyz fails, naming the chain, the balance and what one anchor needs, and
// a gauge exposes the balance. Real hardhat node; the anchoring tasks are driven by hand on an injected
// clock, while a real keeper serves /readyz and /metrics from the same anchoring and registry.

const CONFIRM_POLL_MS = 30_000;
const ONE_ETH = 10n ** 18n;

const node = useHardhatNode({}, { snapshots: true });

async function get(keeper: Keeper, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${keeper.address?.port ?? 1}${path}`);
  return { status: res.status, text: await res.text() };
}

async function anchoringCheck(keeper: Keeper): Promise<{ status: number; ok: boolean; detail: string }> {
  const { status, text } = await get(keeper, '/readyz');
  const body = JSON.parse(text) as { checks: { anchoring: { ok: boolean; detail: string } } };
  return { status, ...body.checks.anchoring };
}

function gauge(metrics: string, name: string): bigint | undefined {
  const value = new RegExp(`^${name}\\{chain="local"\\} (\\S+)$`, 'm').exec(metrics)?.[1];
  return value === undefined ? undefined : BigInt(Number(value));
}

describe.each(testEngines())('%s', (engine) => {
  it('an unfunded signer fails /readyz with chain, balance and need; funded, it recovers and anchors', async () => {
    const database = await databaseForTest(engine);
    const clock = new TestClock();
    const logs = new CapturedLogs('info');
    const wallet = Wallet.createRandom(); // a fresh key: no funds on the node
    const deps = anchorDeps({
      database,
      chains: [{ name: 'local', rpcUrl: node.url, chainId: 31337, confirmations: 1 }],
      signerKey: wallet.privateKey,
      clock,
      logs,
      env: { KEEPER_HTTP_PORT: '0', KEEPER_CONFIRM_POLL_MS: String(CONFIRM_POLL_MS) },
    });
    const anchoring = createAnchoring(deps);
    const [scheduler, worker] = anchoring.tasks;
    // The keeper serves this anchoring's readiness and the shared registry; its loops do not run the
    // anchoring tasks (the test does, deterministically).
    const keeper = createKeeper({
      ...deps,
      device: testDevice(),
      anchoring: { tasks: [], readiness: () => anchoring.readiness(), close: () => anchoring.close() },
    });
    await keeper.start();
    onTestFinished(() => keeper.stop());

    expect(await anchoringCheck(keeper)).toMatchObject({ status: 200, ok: true }); // not checked yet
    expect(await worker!.runOnce()).toBe(false); // idle: probes the node, checks the funds

    const unfunded = await anchoringCheck(keeper);
    expect(unfunded).toMatchObject({ status: 503, ok: false });
    const match =
      /^anchoring: local: signer (0x[0-9a-fA-F]{40}) holds 0 wei, one anchor needs up to (\d+) wei \((\d+) gas × (\d+) wei per gas\); fund it$/.exec(
        unfunded.detail,
      );
    expect(match, unfunded.detail).not.toBeNull();
    const [, signer, needed, gas, fee] = match!;
    expect(signer).toBe(wallet.address);
    expect(BigInt(needed!)).toBe(BigInt(gas!) * BigInt(fee!));
    // A calldata-only transfer to itself: 21 000 + calldata, plus the keeper's 20 % headroom.
    expect(Number(gas)).toBeGreaterThan(21_000 * 1.2);
    expect(Number(gas)).toBeLessThan(30_000 * 1.2);
    expect(BigInt(fee!)).toBeGreaterThan(0n);
    let metrics = (await get(keeper, '/metrics')).text;
    expect(gauge(metrics, 'fieldproof_anchor_signer_balance_wei')).toBe(0n);
    expect(gauge(metrics, 'fieldproof_anchor_estimated_cost_wei')).toBe(BigInt(Number(needed)));
    expect(logs.entries().filter((e) => /cannot pay for one anchor/.test(String(e.msg)))).toHaveLength(1);

    // A checkpoint to anchor: the node refuses the broadcast, the job waits for a retry.
    await appendCheckpoint(database, 3, { now: clock.value });
    expect(await scheduler!.runOnce()).toBe(true);
    expect(await worker!.runOnce()).toBe(true);
    expect((await jobsOf(database))[0]).toMatchObject({ state: 'failed', attempts: 1 });
    expect((await jobsOf(database))[0]!.last_error).toMatch(/funds/i);

    await node.rpc('hardhat_setBalance', [wallet.address, `0x${ONE_ETH.toString(16)}`]);
    expect((await anchoringCheck(keeper)).ok).toBe(false); // not re-checked before confirmPollMs

    clock.advance(CONFIRM_POLL_MS);
    await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'final', {
      clock,
      label: 'anchored once funded',
    });
    expect(await anchoringCheck(keeper)).toMatchObject({ status: 200, ok: true });
    // An ok chain names the newest finalized block the keeper saw.
    expect((await anchoringCheck(keeper)).detail).toMatch(
      /^anchoring: local: ok \(finalized block \d+ 0x[0-9a-f]{64} at \d{4}-\d\d-\d\dT[\d:.]+Z\)$/,
    );
    expect(logs.entries().some((e) => /can pay for anchors again/.test(String(e.msg)))).toBe(true);

    clock.advance(CONFIRM_POLL_MS);
    await worker!.runOnce(); // the next check sees what the anchor cost
    metrics = (await get(keeper, '/metrics')).text;
    const balance = gauge(metrics, 'fieldproof_anchor_signer_balance_wei')!;
    expect(balance).toBeGreaterThan(ONE_ETH - BigInt(needed!) - 1_000n); // a gauge is a float64
    expect(balance).toBeLessThan(ONE_ETH);
  });

  it.runIf(engine === 'sqlite')(
    'the calldata bound used when a node will not estimate is not below a real estimate',
    async () => {
      expect(calldataGasUpperBound(new Uint8Array([0, 1]))).toBe(21_000n + 10n * (1n + 4n));
      const wallet = Wallet.createRandom();
      const data = encodeAnchorPayload({
        origin: 'fieldproof.local/log/0123456789abcdef',
        treeSize: 123_456,
        root: new Uint8Array(32).fill(0xab),
      });
      const estimate = BigInt(
        await node.rpc<string>('eth_estimateGas', [
          { from: wallet.address, to: wallet.address, data: hexlify(data) },
        ]),
      );
      expect(calldataGasUpperBound(data)).toBeGreaterThanOrEqual(estimate);
    },
  );
});
