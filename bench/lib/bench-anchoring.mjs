// Anchoring on a real local EVM node (hardhat 2, test/hardhat/hardhat.config.cjs): the real api and the
// real keeper (`fieldproof keeper`, KEEPER_PROVIDER=evm) anchor checkpoints covering 1, 100 and 10 000
// records; gas per record is read from each anchor transaction's receipt on the node. Blocks come from
// automine (an anchor is mined as soon as it is sent) plus interval mining (evm_setIntervalMining), so
// confirmations accrue at a fixed block time, as on a real chain.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestSource } from './bench-log.mjs';
import { load } from './bench-intake.mjs';
import { ROOT, freePort, startChild } from './processes.mjs';
import { ratio } from './report.mjs';
import { createKey, getJson, installation, startApi, startKeeper, timeToFinal, waitFor } from './servers.mjs';

const HARDHAT_CLI = path.join(ROOT, 'node_modules/hardhat/internal/cli/cli.js');
const HARDHAT_CONFIG = path.join(ROOT, 'test/hardhat/hardhat.config.cjs');
export const CHAIN_ID = 31337;
/** Hardhat's well-known dev account #1 (mnemonic "test test … junk"): public, for local nodes only. */
export const SIGNER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
/** Intrinsic gas of any Ethereum transaction (a plain transfer): the floor of an anchor's cost. */
const TX_BASE_GAS = 21_000;

export async function rpc(url, method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** A hardhat node on `port` (a free one when not given); resolves once it answers eth_chainId. */
export async function startHardhat(port) {
  port ??= await freePort();
  const child = startChild(
    'hardhat node',
    [HARDHAT_CLI, 'node', '--config', HARDHAT_CONFIG, '--hostname', '127.0.0.1', '--port', String(port)],
    {
      cwd: path.dirname(HARDHAT_CONFIG),
      env: {
        FIELDPROOF_HARDHAT_CHAIN_ID: String(CHAIN_ID),
        HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
        DO_NOT_TRACK: '1',
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'hardhat node',
    async () => {
      if (child.process.exitCode !== null) throw new Error(`hardhat node exited:\n${child.output()}`);
      try {
        return Number(await rpc(url, 'eth_chainId')) === CHAIN_ID ? true : undefined;
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 60_000, everyMs: 100 },
  );
  return { child, url };
}

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ dir: string, batches: number[], confirmations: number, blockMs: number, latencyRuns: number, nodeArgs?: string[] }} size
 */
export async function benchAnchoring(report, size) {
  const inst = installation(size.dir, 'anchor');
  const [chain, { key, api }] = await Promise.all([
    startHardhat(),
    createKey(inst).then(async (k) => ({ key: k, api: await startApi(inst, { nodeArgs: size.nodeArgs }) })),
  ]);
  await rpc(chain.url, 'evm_setIntervalMining', [size.blockMs]);
  const keeperEnv = (batch) => ({
    KEEPER_PROVIDER: 'evm',
    KEEPER_CHAINS: JSON.stringify([
      { name: 'local', rpcUrl: chain.url, chainId: CHAIN_ID, confirmations: size.confirmations },
    ]),
    KEEPER_SIGNER_KEY: SIGNER_KEY,
    KEEPER_BATCH_MAX_LEAVES: String(batch),
    KEEPER_BATCH_MAX_WAIT_MS: String(3_600_000),
    KEEPER_POLL_MS: '100',
    KEEPER_CONFIRM_POLL_MS: '250',
  });
  const nextDigest = digestSource();
  const finalAt = async (treeSize) => {
    const page = await getJson(`${api.url}/v1/anchors?state=final&order=desc&limit=1`, key);
    const top = page.items[0];
    return top !== undefined && top.treeSize >= treeSize ? top : undefined;
  };

  // 1. One record at a time: time from the POST to the record reading `final`, and the anchor covering it.
  const [first, ...rest] = size.batches;
  let keeper = await startKeeper(inst, { env: keeperEnv(first), nodeArgs: size.nodeArgs });
  const latencies = [];
  let total = 0;
  for (let i = 0; i < size.latencyRuns; i++) {
    latencies.push(await timeToFinal(api.url, key, nextDigest(), 120_000));
    total += 1;
  }
  await waitFor('the last single-record anchor', () => finalAt(total), { timeoutMs: 60_000 });
  await keeper.child.stop();

  // 2. Bigger batches: the records are written while no keeper runs, then a keeper whose batch threshold
  //    is exactly that many records sequences and anchors them in one transaction.
  for (const batch of rest) {
    const makeBody = () =>
      JSON.stringify({ digest: nextDigest(), kind: 'bench-anchor', occurredAt: Date.now() });
    const run = await load({
      url: api.url,
      connections: Math.min(16, batch),
      amount: batch,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      makeBody,
    });
    if (run.status['201'] !== batch)
      throw new Error(`expected ${batch} records created, got ${JSON.stringify(run.status)}`);
    total += batch;
    keeper = await startKeeper(inst, { env: keeperEnv(batch), nodeArgs: size.nodeArgs });
    try {
      await waitFor(`an anchor of ${batch} records to be final`, () => finalAt(total), {
        timeoutMs: 180_000,
        everyMs: 100,
      });
    } catch (err) {
      const anchors = await getJson(`${api.url}/v1/anchors?order=desc&limit=5`, key).catch(() => undefined);
      throw new Error(
        `${err.message}\nanchors: ${JSON.stringify(anchors)}\nkeeper output:\n${keeper.child.output()}`,
      );
    }
    await keeper.child.stop();
  }

  // Every final anchor, oldest first, with the gas its transaction used on the node.
  const anchors = (await getJson(`${api.url}/v1/anchors?state=final&order=asc&limit=500`, key)).items;
  let covered = 0;
  const txs = [];
  for (const a of anchors) {
    const receipt = await rpc(chain.url, 'eth_getTransactionReceipt', [a.txHash]);
    const tx = await rpc(chain.url, 'eth_getTransactionByHash', [a.txHash]);
    txs.push({
      treeSize: a.treeSize,
      leaves: a.treeSize - covered,
      txHash: a.txHash,
      gasUsed: Number(receipt.gasUsed),
      calldataBytes: (tx.input.length - 2) / 2,
      blockNumber: Number(receipt.blockNumber),
    });
    covered = a.treeSize;
  }
  const single = txs.find((t) => t.leaves === first);
  const perRecord = (t) => t.gasUsed / t.leaves;
  for (const batch of size.batches) {
    const tx = txs.find((t) => t.leaves === batch);
    if (tx === undefined) {
      throw new Error(
        `no final anchor covers exactly ${batch} new records: ${JSON.stringify(txs.map((t) => t.leaves))}`,
      );
    }
    report.add({
      section: 'anchoring (hardhat)',
      measure: `gas per record, one anchor covering ${batch.toLocaleString('en-US')} record${batch === 1 ? '' : 's'}`,
      value: perRecord(tx),
      unit: 'gas',
      ...(batch === first
        ? { peer: 'intrinsic gas of a plain transfer', peerValue: TX_BASE_GAS }
        : {
            peer: `anchor covering ${first} record${first === 1 ? '' : 's'}`,
            peerValue: single === undefined ? undefined : perRecord(single),
          }),
      ratio: ratio(perRecord(tx), batch === first ? TX_BASE_GAS : single && perRecord(single)),
      note:
        batch === first
          ? `${tx.gasUsed} gas per anchor transaction (FPA1 calldata, ${tx.calldataBytes} bytes, to a fixed address); gasUsed from eth_getTransactionReceipt`
          : undefined,
    });
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  // The chain's own share: the anchor is mined at once (automine), then confirmations − 1 interval blocks
  // must follow; the first comes after U(0, block time), so on average (confirmations − 1.5) × block time.
  const floor = Math.max(0.5, size.confirmations - 1.5) * size.blockMs;
  report.add({
    section: 'anchoring (hardhat)',
    measure: `intake → final, ${size.confirmations} confirmations, ${size.blockMs} ms blocks (median of ${latencies.length})`,
    value: median,
    unit: 'ms',
    peer: 'chain alone: (conf. − 1.5) × block time',
    peerValue: floor,
    ratio: ratio(median, floor),
    note: `POST to GET /v1/evidence/:id reading status final (polled every 20 ms); keeper with KEEPER_BATCH_MAX_LEAVES=1, KEEPER_POLL_MS=100, KEEPER_CONFIRM_POLL_MS=250; blocks: automine + evm_setIntervalMining ${size.blockMs} ms; finality 'auto' (hardhat's finalized tag is its latest block); runs: ${latencies.map((l) => Math.round(l)).join(', ')} ms`,
  });
  report.details.anchoring = {
    confirmations: size.confirmations,
    blockMs: size.blockMs,
    latenciesMs: latencies,
    anchors: txs,
  };
  await api.child.stop();
  await chain.child.stop();
  await sleep(0);
}
