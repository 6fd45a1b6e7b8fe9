import fs from 'node:fs';
import path from 'node:path';
import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { decodeAnchorPayload } from '@fieldproof/receipt';
import { toHex } from '@fieldproof/merkle';
import type { AnchorJobRow, Engine } from '@fieldproof/db';
import type { KeeperTask } from '@fieldproof/keeper';
import { ChainAnchorer, SignerKeyError, createAnchoring, loadAnchorSigner } from '../src/anchor/index.js';
import { databaseForTest, tempDir, testEngines } from '../../../test/support/databases.js';
import { HARDHAT_ACCOUNTS, freePort, useHardhatNode } from '../../../test/support/hardhat.js';
import {
  CapturedLogs,
  TEST_ORIGIN,
  TestClock,
  anchorDeps,
  appendCheckpoint,
  driveUntil,
  jobsOf,
  txsOf,
  type ChainSpec,
} from '../../../test/support/anchor-fixtures.js';
import { closedAfterTest } from '../../../test/support/lifetime.js';

const SIGNER = HARDHAT_ACCOUNTS[0];

const node = useHardhatNode({}, { snapshots: true });

/** createAnchoring, closed when the test ends (passed or failed: no RPC timer or cron task leaks). */
function anchoringFor(...args: Parameters<typeof createAnchoring>): ReturnType<typeof createAnchoring> {
  return closedAfterTest(createAnchoring(...args));
}

function localChain(overrides: Partial<ChainSpec> = {}): ChainSpec {
  return { name: 'local', rpcUrl: node.url, chainId: 31337, confirmations: 2, ...overrides };
}

/**
 * A test's anchoring on the local node with the signer funded: a fresh database, a test clock and
 * createAnchoring over them, closed when the test ends. `chain` adjusts the local chain, `options`
 * the rest of anchorDeps.
 */
async function anchoringOnLocal(
  engine: Engine,
  chain: Partial<ChainSpec> = {},
  options: Omit<Parameters<typeof anchorDeps>[0], 'database' | 'chains' | 'clock'> = {},
) {
  const database = await databaseForTest(engine);
  const clock = new TestClock();
  const deps = anchorDeps({
    database,
    chains: [localChain(chain)],
    signerKey: SIGNER.privateKey,
    clock,
    ...options,
  });
  return { database, clock, deps, anchoring: anchoringFor(deps) };
}

describe.each(testEngines())('%s', (engine) => {
  describe('anchoring a checkpoint on a real EVM node', () => {
    it('anchors the newest checkpoint and follows it to final; the calldata decodes to the checkpoint', async () => {
      const { database, clock, anchoring } = await anchoringOnLocal(engine);
      const startBlock = (await node.blockNumber()) + 1;
      await appendCheckpoint(database, 3, { now: clock.value });
      const cp = await appendCheckpoint(database, 2, { now: clock.value });

      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'included', {
        clock,
      });
      const [job] = await jobsOf(database);
      expect(job).toMatchObject({ chain: 'local', chain_id: 31337, tree_size: 5, attempts: 0 });

      await node.mineBlocks(1); // the second confirmation
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'final', {
        clock,
      });

      const txs = await txsOf(database, 'local');
      expect(txs).toHaveLength(1);
      expect(txs[0]).toMatchObject({ state: 'final', nonce: 0, from_address: SIGNER.address });
      expect(txs[0]!.block_number).toBeGreaterThanOrEqual(startBlock);
      const onChain = await node.transactionsFrom(SIGNER.address, startBlock);
      expect(onChain).toHaveLength(1);
      expect(onChain[0]!.hash).toBe(txs[0]!.tx_hash);
      expect(onChain[0]!.blockHash).toBe(txs[0]!.block_hash);
      expect(onChain[0]!.to?.toLowerCase()).toBe(SIGNER.address.toLowerCase());
      const payload = decodeAnchorPayload(onChain[0]!.input);
      expect(payload.origin).toBe(cp.origin);
      expect(payload.treeSize).toBe(cp.treeSize);
      expect(toHex(payload.root)).toBe(cp.rootHash);
    });
  });

  describe('reorgs', () => {
    it('notices an anchor reorged out after inclusion, re-broadcasts the same bytes and reaches final on the new chain', async () => {
      const { database, clock, deps, anchoring } = await anchoringOnLocal(engine, { confirmations: 3 });
      const beforeAnchor = await node.snapshot();
      const startBlock = (await node.blockNumber()) + 1;
      await appendCheckpoint(database, 4, { now: clock.value });
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'included', {
        clock,
      });
      const [first] = await txsOf(database, 'local');
      expect(first).toMatchObject({ state: 'included', block_number: startBlock });

      // The block holding the anchor disappears; the new chain is longer and has other blocks there.
      await node.revert(beforeAnchor);
      await node.mineBlocks(4);
      expect(await node.transactionsFrom(SIGNER.address, startBlock)).toHaveLength(0);

      const reincluded = async () => {
        const [tx] = await txsOf(database, 'local');
        return tx?.state === 'included' && tx.block_hash !== first!.block_hash;
      };
      await driveUntil(anchoring.tasks, reincluded, { clock, label: 're-included' });
      await node.mineBlocks(2);
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'final', {
        clock,
      });

      const txs = await txsOf(database, 'local');
      expect(txs).toHaveLength(1); // the same signed bytes, not a second anchor
      expect(txs[0]!.tx_hash).toBe(first!.tx_hash);
      expect(txs[0]!.state).toBe('final');
      expect(txs[0]!.block_number).toBeGreaterThan(first!.block_number!);
      expect(txs[0]!.block_hash).not.toBe(first!.block_hash);
      const onChain = await node.transactionsFrom(SIGNER.address, startBlock);
      expect(onChain.map((t) => t.hash)).toEqual([first!.tx_hash]);
      expect(onChain[0]!.blockHash).toBe(txs[0]!.block_hash);
      const metrics = await deps.registry.getSingleMetricAsString('fieldproof_anchor_reorgs_total');
      expect(metrics).toContain('fieldproof_anchor_reorgs_total{chain="local"} 1');
    });

    it('re-anchors with a new transaction when the reorged nonce was taken by another transaction', async () => {
      const { database, clock, anchoring } = await anchoringOnLocal(engine, { confirmations: 3 });
      const beforeAnchor = await node.snapshot();
      const startBlock = (await node.blockNumber()) + 1;
      const cp = await appendCheckpoint(database, 2, { now: clock.value });
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'included', {
        clock,
      });
      const [first] = await txsOf(database, 'local');

      await node.revert(beforeAnchor);
      // Someone else spends the signer's nonce on the new chain.
      const wallet = new Wallet(SIGNER.privateKey);
      const other = await wallet.signTransaction({
        type: 2,
        chainId: 31337n,
        nonce: first!.nonce,
        to: HARDHAT_ACCOUNTS[1].address,
        value: 1n,
        gasLimit: 21000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      });
      await node.rpc('eth_sendRawTransaction', [other]);
      await node.mineBlocks(3);

      const reanchored = async () =>
        (await txsOf(database, 'local')).map((t) => t.state).join() === 'dropped,included';
      await driveUntil(anchoring.tasks, reanchored, { clock, label: 're-anchored', maxRounds: 50 });
      await node.mineBlocks(2);
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'final', {
        clock,
      });

      const txs = await txsOf(database, 'local');
      expect(txs.map((t) => [t.state, t.nonce])).toEqual([
        ['dropped', first!.nonce],
        ['final', first!.nonce + 1],
      ]);
      const anchorsOnChain = (await node.transactionsFrom(SIGNER.address, startBlock)).filter((t) =>
        t.input.startsWith('0x46504131'),
      );
      expect(anchorsOnChain).toHaveLength(1);
      expect(decodeAnchorPayload(anchorsOnChain[0]!.input).treeSize).toBe(cp.treeSize);
    });
  });

  describe('stuck transactions', () => {
    it('replaces a stuck transaction with the same nonce and ≥12.5 % higher fees up to the cap; exactly one variant is mined', async () => {
      const database = await databaseForTest(engine);
      const clock = new TestClock();
      const logs = new CapturedLogs();
      const latest = await node.rpc<{ baseFeePerGas: string }>('eth_getBlockByNumber', ['latest', false]);
      const first = 2n * BigInt(latest.baseFeePerGas) + 10n ** 9n; // what the keeper will offer first
      const capWei = (first * 13n) / 10n; // room for two bumps (×1.125, ×1.266), not a third (×1.424)
      const deps = anchorDeps({
        database,
        chains: [
          localChain({
            confirmations: 1,
            stuckAfterMs: 5000,
            maxFeePerGasGwei: Number(capWei) / 1e9,
          }),
        ],
        signerKey: SIGNER.privateKey,
        clock,
        logs,
      });
      const anchoring = anchoringFor(deps);
      await node.setAutomine(false);
      const startBlock = (await node.blockNumber()) + 1;
      await appendCheckpoint(database, 3, { now: clock.value });
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'broadcast', {
        clock,
      });

      // Nothing is mined: every stuckAfterMs the keeper re-prices, until the cap stops it.
      for (let i = 0; i < 6; i++) {
        clock.advance(5000);
        for (const t of anchoring.tasks) await t.runOnce();
      }
      const variants = await txsOf(database, 'local');
      expect(variants.map((v) => v.state)).toEqual(['replaced', 'replaced', 'broadcast']);
      expect(new Set(variants.map((v) => v.nonce)).size).toBe(1);
      for (let i = 1; i < variants.length; i++) {
        const [prev, next] = [variants[i - 1]!, variants[i]!];
        expect(BigInt(next.max_fee_per_gas) * 8n).toBeGreaterThanOrEqual(BigInt(prev.max_fee_per_gas) * 9n);
        expect(BigInt(next.max_priority_fee_per_gas) * 8n).toBeGreaterThanOrEqual(
          BigInt(prev.max_priority_fee_per_gas) * 9n,
        );
      }
      for (const v of variants) expect(BigInt(v.max_fee_per_gas)).toBeLessThanOrEqual(capWei);
      expect(logs.text).toContain('at the fee cap');

      await node.mine();
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'final', {
        clock,
      });
      const after = await txsOf(database, 'local');
      expect(after.map((v) => v.state)).toEqual(['replaced', 'replaced', 'final']);
      const onChain = await node.transactionsFrom(SIGNER.address, startBlock);
      expect(onChain).toHaveLength(1);
      expect(onChain[0]!.hash).toBe(after[2]!.tx_hash);
      expect(await deps.registry.getSingleMetricAsString('fieldproof_anchor_fee_bumps_total')).toContain(
        'fieldproof_anchor_fee_bumps_total{chain="local"} 2',
      );
    });
  });

  describe('fencing', () => {
    it('a worker whose lease was re-claimed cannot persist a transaction for the job', async () => {
      const database = await databaseForTest(engine);
      const clock = new TestClock();
      const chains = [localChain({ confirmations: 1 })];
      const a = anchoringFor(anchorDeps({ database, chains, signerKey: SIGNER.privateKey, clock }), {
        owner: 'worker-a',
      });
      const b = anchoringFor(anchorDeps({ database, chains, signerKey: SIGNER.privateKey, clock }), {
        owner: 'worker-b',
      });
      const [schedulerA, workerA] = a.tasks as [KeeperTask, ChainAnchorer];
      const workerB = b.tasks[1] as ChainAnchorer;
      await appendCheckpoint(database, 1, { now: clock.value });
      expect(await schedulerA.runOnce()).toBe(true);
      const nonceBefore = await node.rpc<string>('eth_getTransactionCount', [SIGNER.address, 'latest']);

      const claimedByA = await workerA.claim();
      expect(claimedByA).toMatchObject({ lease_owner: 'worker-a', lease_token: 1 });
      expect(await workerB.claim()).toBeUndefined(); // leased
      clock.advance(60_001); // A's lease expires
      const claimedByB = await workerB.claim();
      expect(claimedByB).toMatchObject({ lease_owner: 'worker-b', lease_token: 2 });

      await workerA.step(claimedByA!);
      expect(await txsOf(database, 'local')).toHaveLength(0);
      expect(await node.rpc<string>('eth_getTransactionCount', [SIGNER.address, 'latest'])).toBe(nonceBefore);

      await workerB.step(claimedByB!);
      await driveUntil(b.tasks, async () => (await jobsOf(database))[0]?.state === 'final', { clock });
      expect(await txsOf(database, 'local')).toHaveLength(1);
    });

    it('a worker that broadcast and then lost its lease cannot record the outcome; the new holder reconciles by hash', async () => {
      const database = await databaseForTest(engine);
      const clock = new TestClock();
      const chains = [localChain({ confirmations: 1 })];
      let claimedByB: AnchorJobRow | undefined;
      const b = anchoringFor(anchorDeps({ database, chains, signerKey: SIGNER.privateKey, clock }), {
        owner: 'worker-b',
      });
      const workerB = b.tasks[1] as ChainAnchorer;
      const a = anchoringFor(anchorDeps({ database, chains, signerKey: SIGNER.privateKey, clock }), {
        owner: 'worker-a',
        async atPoint(point) {
          if (point !== 'after-broadcast') return;
          clock.advance(60_001); // A stalls past its lease; B takes the job over
          claimedByB = await workerB.claim();
        },
      });
      const startBlock = (await node.blockNumber()) + 1;
      await appendCheckpoint(database, 1, { now: clock.value });
      await a.tasks[0]!.runOnce();
      expect(await a.tasks[1]!.runOnce()).toBe(true);

      expect(claimedByB).toMatchObject({ lease_owner: 'worker-b', lease_token: 2 });
      const [job] = await jobsOf(database);
      expect(job).toMatchObject({ state: 'signed', lease_owner: 'worker-b' }); // A's "broadcast" was fenced out
      await workerB.step(claimedByB!);
      expect((await jobsOf(database))[0]!.state).toBe('final');
      expect(await txsOf(database, 'local')).toHaveLength(1);
      expect(await node.transactionsFrom(SIGNER.address, startBlock)).toHaveLength(1);
    });
  });

  describe('failures', () => {
    it('retries a temporary failure with backoff and dead-letters the job after maxAttempts with its last error', async () => {
      const unfunded = Wallet.createRandom();
      const { database, clock, anchoring } = await anchoringOnLocal(
        engine,
        {},
        { signerKey: unfunded.privateKey, env: { KEEPER_MAX_ATTEMPTS: '3' } },
      );
      await appendCheckpoint(database, 1, { now: clock.value });
      await anchoring.tasks[0]!.runOnce();
      const worker = anchoring.tasks[1]!;

      expect(await worker.runOnce()).toBe(true);
      let [job] = await jobsOf(database);
      expect(job).toMatchObject({ state: 'failed', attempts: 1 });
      expect(job!.last_error).toMatch(/enough funds/);
      expect(job!.next_attempt_at).toBeGreaterThan(clock.value);
      expect(await worker.runOnce()).toBe(false); // backing off: not due yet

      await driveUntil([worker], async () => (await jobsOf(database))[0]?.state === 'dead', {
        clock,
        stepMs: 2500,
      });
      [job] = await jobsOf(database);
      expect(job!.attempts).toBe(3);
      expect(job!.last_error).toMatch(/^gave up after 3 attempts: .*enough funds/);
      const txs = await txsOf(database, 'local');
      expect(txs.every((t) => t.state === 'failed' && t.nonce === 0)).toBe(true); // the nonce was released each time
      clock.advance(3_600_000);
      expect(await worker.runOnce()).toBe(false); // dead is final
    });

    it('does not retry a permanent failure (the anchor contract reverts)', async () => {
      const reverting = await deployRevertingContract();
      const { database, clock, anchoring } = await anchoringOnLocal(engine, { anchorAddress: reverting });
      await appendCheckpoint(database, 1, { now: clock.value });
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'dead', { clock });
      const [job] = await jobsOf(database);
      expect(job!.attempts).toBe(1);
      expect(job!.last_error).toMatch(/^permanent error: .*revert/i);
      expect(await txsOf(database, 'local')).toHaveLength(0);
      clock.advance(3_600_000);
      for (const t of anchoring.tasks) expect(await t.runOnce()).toBe(false);
      expect((await jobsOf(database))[0]!.attempts).toBe(1);
    });

    it('refuses to anchor on a node whose chain id differs from the configuration, and says so in readiness', async () => {
      const logs = new CapturedLogs();
      const { database, clock, anchoring } = await anchoringOnLocal(engine, { chainId: 31338 }, { logs });
      await appendCheckpoint(database, 1, { now: clock.value });
      for (let i = 0; i < 5; i++) for (const t of anchoring.tasks) await t.runOnce();
      const [job] = await jobsOf(database);
      expect(job).toMatchObject({ state: 'pending', attempts: 0, lease_owner: null });
      expect(await txsOf(database, 'local')).toHaveLength(0);
      const readiness = anchoring.readiness();
      expect(readiness.ok).toBe(false);
      expect(readiness.detail).toContain('reports chainId 31337, KEEPER_CHAINS says 31338');
      expect(logs.entries().filter((e) => e.level === 50)).toHaveLength(1); // one error line, not one per round
    });
  });

  describe('the signing key', () => {
    it('refuses a key file readable by group or others with one line that does not contain the key', () => {
      const dir = tempDir();
      const file = path.join(dir, 'signer.key');
      fs.writeFileSync(file, `${SIGNER.privateKey}\n`, { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      let error: unknown;
      try {
        loadAnchorSigner({ signerKeyFile: file, signerKey: undefined, deviceKey: undefined });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(SignerKeyError);
      const message = (error as Error).message;
      expect(message).toBe(
        `KEEPER_SIGNER_KEY_FILE: ${file} is accessible by group or others (mode 0644); refusing it — run chmod 600 ${file}`,
      );
      expect(message).not.toContain(SIGNER.privateKey.slice(2));
      fs.chmodSync(file, 0o600);
      const signer = loadAnchorSigner({ signerKeyFile: file, signerKey: undefined, deviceKey: undefined });
      expect(signer.address).toBe(SIGNER.address);
      expect(JSON.stringify(signer)).toBe(JSON.stringify({ address: SIGNER.address }));
      expect(String(signer)).not.toContain(SIGNER.privateKey.slice(2));
    });

    it('refuses a missing or malformed key without echoing it', () => {
      expect(() =>
        loadAnchorSigner({ signerKeyFile: undefined, signerKey: undefined, deviceKey: undefined }),
      ).toThrow(/KEEPER_SIGNER_KEY_FILE: not set/);
      const bad = 'zz' + SIGNER.privateKey.slice(4);
      expect(() =>
        loadAnchorSigner({ signerKeyFile: undefined, signerKey: bad, deviceKey: undefined }),
      ).toThrow(/^KEEPER_SIGNER_KEY: not a 32-byte hex private key/);
      try {
        loadAnchorSigner({ signerKeyFile: undefined, signerKey: bad, deviceKey: undefined });
      } catch (err) {
        expect((err as Error).message).not.toContain(bad.slice(4));
      }
    });

    it('never writes the key to a log line, at trace level, through a whole anchoring', async () => {
      const database = await databaseForTest(engine);
      const clock = new TestClock();
      const logs = new CapturedLogs('trace');
      const dir = tempDir();
      const file = path.join(dir, 'signer.key');
      fs.writeFileSync(file, SIGNER.privateKey.slice(2), { mode: 0o600 });
      const deps = anchorDeps({
        database,
        chains: [localChain({ confirmations: 1 })],
        env: { KEEPER_SIGNER_KEY_FILE: file },
        clock,
        logs,
      });
      const anchoring = anchoringFor(deps);
      await appendCheckpoint(database, 2, { now: clock.value });
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'final', {
        clock,
      });
      expect(logs.lines.length).toBeGreaterThan(3);
      const hex = SIGNER.privateKey.slice(2);
      expect(logs.text.toLowerCase()).not.toContain(hex);
      expect(logs.text).not.toContain(Buffer.from(hex, 'hex').toString('base64'));
      expect(logs.text).toContain(SIGNER.address); // the address is fine to log
    });
  });

  describe('providers and metrics', () => {
    it('stub: no chain, no jobs, a warning, and readiness that says it is not anchoring', async () => {
      const database = await databaseForTest(engine);
      const logs = new CapturedLogs();
      const deps = anchorDeps({ database, chains: [], logs });
      const anchoring = anchoringFor(deps);
      expect(anchoring.tasks).toHaveLength(0);
      await appendCheckpoint(database, 3);
      expect(await jobsOf(database)).toHaveLength(0);
      expect(anchoring.readiness()).toEqual({
        ok: true,
        detail: 'anchoring: stub provider, not anchoring on any chain',
      });
      const warn = logs.entries().find((e) => e.level === 40);
      expect(warn?.msg).toMatch(/KEEPER_PROVIDER=stub: checkpoints are NOT anchored on any chain/);
    });

    it('an idle keeper still notices an unreachable RPC: readiness fails after rpcDownReadyMs', async () => {
      const deadUrl = `http://127.0.0.1:${await freePort()}`;
      const { clock, anchoring } = await anchoringOnLocal(
        engine,
        { rpcUrl: deadUrl },
        { env: { KEEPER_RPC_DOWN_READY_MS: '60000' } },
      );
      const worker = anchoring.tasks[1]!;
      expect(await worker.runOnce()).toBe(false); // no job: a probe, which fails
      expect(anchoring.readiness().ok).toBe(true); // not down for long yet
      for (let i = 0; i < 40; i++) {
        clock.advance(2000);
        expect(await worker.runOnce()).toBe(false);
      }
      expect(anchoring.readiness()).toMatchObject({ ok: false });
      expect(anchoring.readiness().detail).toMatch(
        /^anchoring: local: RPC failing for 80 s \(eth_chainId: connection failed/,
      );
    });

    it('batches: a job only when the backlog reaches batchMaxLeaves or its oldest leaf batchMaxWaitMs', async () => {
      const { database, clock, anchoring } = await anchoringOnLocal(
        engine,
        {},
        { env: { KEEPER_BATCH_MAX_LEAVES: '10', KEEPER_BATCH_MAX_WAIT_MS: '60000' } },
      );
      const [scheduler, worker] = anchoring.tasks;
      await appendCheckpoint(database, 4, { now: clock.value });
      expect(await scheduler!.runOnce()).toBe(false);
      await appendCheckpoint(database, 6, { now: clock.value }); // backlog 10
      expect(await scheduler!.runOnce()).toBe(true);
      expect((await jobsOf(database)).map((j) => j.tree_size)).toEqual([10]);
      expect(await scheduler!.runOnce()).toBe(false); // one job per checkpoint and chain
      expect(await worker!.runOnce()).toBe(true); // signed and sent: this job is no longer movable
      clock.advance(1000);
      await appendCheckpoint(database, 3, { now: clock.value }); // backlog 3, young
      expect(await scheduler!.runOnce()).toBe(false);
      clock.advance(60_000); // the oldest unanchored leaf (index 10) is now a minute old
      expect(await scheduler!.runOnce()).toBe(true);
      expect((await jobsOf(database)).map((j) => j.tree_size)).toEqual([10, 13]);

      // The newest job has signed nothing yet: newer checkpoints move it instead of queueing more jobs.
      await appendCheckpoint(database, 10, { now: clock.value });
      expect(await scheduler!.runOnce()).toBe(true);
      const jobs = await jobsOf(database);
      expect(jobs.map((j) => [j.tree_size, j.state])).toEqual([
        [10, 'broadcast'],
        [23, 'pending'],
      ]);
    });

    it('exports anchors per state, gas and fees spent, and the age of the newest final anchor', async () => {
      const { database, clock, deps, anchoring } = await anchoringOnLocal(engine, { confirmations: 1 });
      await appendCheckpoint(database, 7, { now: clock.value });
      await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'final', {
        clock,
      });
      const text = await deps.registry.metrics();
      expect(text).toContain('fieldproof_anchor_jobs{chain="local",state="final"} 1');
      expect(text).toContain('fieldproof_anchor_jobs{chain="local",state="pending"} 0');
      const gas = Number(/fieldproof_anchor_gas_used_total\{chain="local"\} (\d+)/.exec(text)?.[1]);
      expect(gas).toBeGreaterThan(21_000);
      expect(gas).toBeLessThan(30_000);
      expect(text).toMatch(/fieldproof_anchor_fees_paid_wei_total\{chain="local"\} [1-9]/);
      expect(text).toMatch(/fieldproof_anchor_last_final_age_seconds\{chain="local"\} \d/);
      console.log(`[anchor] gas used by one anchor (origin ${TEST_ORIGIN.length} bytes): ${gas}`);
    });
  });
});

async function deployRevertingContract(): Promise<string> {
  // Runtime code PUSH1 0 PUSH1 0 REVERT (60006000fd), returned by a 14-byte constructor.
  const deployer = new Wallet(HARDHAT_ACCOUNTS[3].privateKey);
  const nonce = Number(await node.rpc<string>('eth_getTransactionCount', [deployer.address, 'pending']));
  const raw = await deployer.signTransaction({
    type: 2,
    chainId: 31337n,
    nonce,
    data: '0x6460006000fd6000526005601bf3',
    gasLimit: 100_000n,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
  });
  const hash = await node.rpc<string>('eth_sendRawTransaction', [raw]);
  const receipt = await node.rpc<{ contractAddress: string }>('eth_getTransactionReceipt', [hash]);
  return receipt.contractAddress;
}
