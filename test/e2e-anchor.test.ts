import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnchorPayload } from '@fieldproof/receipt';
import { tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, freePort, startHardhatNode, type HardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { waitFor } from './support/wait-for.js';

/**
 * Anchoring end to end with every piece real and BUILT (`npm run build` first): `fieldproof api` and
 * `fieldproof keeper` as processes on one SQLite file, two hardhat nodes (chain ids 31337 and 31338,
 * provider `multi`), the second behind a TCP proxy. Evidence goes in over HTTP; each checkpoint is
 * anchored on both chains to `final`, and each transaction on chain carries the checkpoint's origin,
 * size and root. Then the second chain is cut off: the api keeps accepting evidence, the keeper backs
 * off without spinning and says so in /readyz, and everything is anchored once the node is back.
 */
const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));
const SIGNER = HARDHAT_ACCOUNTS[1];
const ORIGIN = 'fieldproof.test/e2e-anchor';

interface AnchorItem {
  chain: string;
  chainId: number;
  treeSize: number;
  state: string;
  txHash: string | null;
  blockHash: string | null;
}
interface Checkpoint {
  origin: string;
  treeSize: number;
  root: string;
}

let alpha: HardhatNode;
let beta: HardhatNode;
let betaProxy: TcpProxy;
let dir: string;
let env: Record<string, string>;
let apiBase: string;
let keeperBase: string;
let apiKey: string;
const processes = new Map<string, { child: ChildProcess; output: () => string; exited: Promise<unknown> }>();

function startProcess(name: 'api' | 'keeper'): void {
  const child = spawn(process.execPath, [BIN, name], { cwd: dir, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  processes.set(name, { child, output: () => output, exited });
}

async function api<T>(method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${apiBase}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** Writes one evidence record over HTTP; fails the test with the answer unless it is a 201. */
async function postEvidence(): Promise<void> {
  const res = await api('POST', '/v1/evidence', {
    digest: randomBytes(32).toString('hex'),
    kind: 'detection',
    occurredAt: Date.now(),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
}

/** Polls `probe` (mining a block on each chain between tries) until it returns a value. */
function until<T>(probe: () => Promise<T | undefined>, label: string, timeoutMs = 60_000): Promise<T> {
  return waitFor(label, probe, {
    timeoutMs,
    intervalMs: 150,
    between: () => Promise.all([alpha.mine(), beta.mine()]),
    explain: () => [...processes].map(([n, p]) => `--- ${n}\n${p.output()}`).join('\n'),
  });
}

/** The final anchor of the newest checkpoint on `chain`, once there is one. */
async function finalAnchorOfNewest(chain: string): Promise<{ anchor: AnchorItem; checkpoint: Checkpoint }> {
  return until(async () => {
    const checkpoint = (await api<Checkpoint>('GET', '/v1/log/checkpoint')).json;
    const items = (await api<{ items: AnchorItem[] }>('GET', `/v1/anchors?chain=${chain}&limit=100`)).json
      .items;
    const anchor = items.find((a) => a.treeSize === checkpoint.treeSize && a.state === 'final');
    return anchor === undefined ? undefined : { anchor, checkpoint };
  }, `final anchor of the newest checkpoint on ${chain}`);
}

async function expectOnChain(node: HardhatNode, anchor: AnchorItem, checkpoint: Checkpoint): Promise<void> {
  const tx = await node.rpc<{ input: string; from: string; blockHash: string }>('eth_getTransactionByHash', [
    anchor.txHash,
  ]);
  expect(tx.from.toLowerCase()).toBe(SIGNER.address.toLowerCase());
  expect(tx.blockHash).toBe(anchor.blockHash);
  const payload = decodeAnchorPayload(tx.input);
  expect(payload.origin).toBe(ORIGIN);
  expect(payload.treeSize).toBe(checkpoint.treeSize);
  expect(Buffer.from(payload.root).toString('hex')).toBe(checkpoint.root);
}

beforeAll(async () => {
  [alpha, beta] = await Promise.all([
    startHardhatNode({ chainId: 31337 }),
    startHardhatNode({ chainId: 31338 }),
  ]);
  betaProxy = await startTcpProxy({ port: beta.port });
  dir = tempDir('fieldproof-e2e-anchor-');
  const apiPort = await freePort();
  const keeperPort = await freePort();
  env = {
    API_DB_URL: `sqlite://${path.join(dir, 'fieldproof.sqlite3')}`,
    KEEPER_DB_URL: '',
    FIELDPROOF_DATA_DIR: dir,
    FIELDPROOF_LOG_ORIGIN: ORIGIN,
    FIELDPROOF_DEVICE_KEY: '',
    FIELDPROOF_DEVICE_KEY_FILE: '',
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    // Load shedding is not what this test is about; a busy 2-core CI box can lag the event loop (0: off).
    API_MAX_EVENT_LOOP_DELAY_MS: '0',
    KEEPER_HTTP_HOST: '127.0.0.1',
    KEEPER_HTTP_PORT: String(keeperPort),
    KEEPER_PROVIDER: 'multi',
    KEEPER_CHAINS: JSON.stringify([
      { name: 'alpha', rpcUrl: alpha.url, chainId: 31337, confirmations: 2 },
      { name: 'beta', rpcUrl: betaProxy.url, chainId: 31338, confirmations: 2 },
    ]),
    KEEPER_SIGNER_KEY: SIGNER.privateKey,
    KEEPER_SIGNER_KEY_FILE: '',
    KEEPER_BATCH_MAX_LEAVES: '1',
    KEEPER_BATCH_MAX_WAIT_MS: '0',
    KEEPER_POLL_MS: '50',
    KEEPER_CONFIRM_POLL_MS: '100',
    KEEPER_BACKOFF_BASE_MS: '100',
    KEEPER_BACKOFF_MAX_MS: '800',
    KEEPER_RPC_TIMEOUT_MS: '500',
    KEEPER_RPC_DOWN_READY_MS: '1500',
    LOG_LEVEL: 'warn',
  };
  apiBase = `http://127.0.0.1:${apiPort}`;
  keeperBase = `http://127.0.0.1:${keeperPort}`;
  const keys = await runNode([BIN, 'keys', 'create', '--scopes', 'read,write', '--json'], env, { cwd: dir });
  expect(keys.code, keys.stderr).toBe(0);
  apiKey = (JSON.parse(keys.stdout) as { key: string }).key;
  startProcess('api');
  startProcess('keeper');
  await until(async () => ((await fetch(`${apiBase}/healthz`)).ok ? true : undefined), 'api up', 30_000);
  await until(
    async () => ((await fetch(`${keeperBase}/healthz`)).ok ? true : undefined),
    'keeper up',
    30_000,
  );
}, 120_000);

afterAll(async () => {
  for (const p of processes.values()) {
    if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await p.exited;
  }
  await betaProxy?.close();
  await Promise.all([alpha?.stop(), beta?.stop()]);
});

describe('anchoring end to end: api and keeper processes, two hardhat nodes', () => {
  it('evidence written over HTTP is anchored on both chains to final; each transaction carries the checkpoint', async () => {
    for (let i = 0; i < 5; i++) await postEvidence();
    for (const [chain, node] of [
      ['alpha', alpha],
      ['beta', beta],
    ] as const) {
      const { anchor, checkpoint } = await finalAnchorOfNewest(chain);
      expect(checkpoint.treeSize).toBe(5);
      expect(anchor.chainId).toBe(node.chainId);
      await expectOnChain(node, anchor, checkpoint);
    }
  });

  it('cut off from one chain: the api keeps accepting evidence, the keeper backs off, all is anchored after', async () => {
    betaProxy.pause('refuse');
    const attemptsBefore = betaProxy.connections;
    const started = Date.now();
    const latencies: number[] = [];
    while (Date.now() - started < 4000) {
      const t0 = Date.now();
      await postEvidence();
      latencies.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 200));
    }
    const attempts = betaProxy.connections - attemptsBefore;
    console.log(
      `[anchor e2e] 4 s without chain beta: ${latencies.length} evidence writes (slowest ${Math.max(...latencies)} ms), ${attempts} connection attempts to beta`,
    );
    // A bound on attempts per time needs a time base: the window stays. It cannot fail for slowness (a
    // loaded machine makes fewer attempts in it), only for a keeper retrying in a loop.
    expect(attempts).toBeLessThanOrEqual(20); // capped backoff, not a loop
    // /readyz fails once beta has been failing for KEEPER_RPC_DOWN_READY_MS: waited for, not read when the
    // window ends, which a slow machine may reach before the keeper's first failed attempt is 1.5 s old.
    await until(async () => {
      const ready = await fetch(`${keeperBase}/readyz`);
      const body = await ready.text();
      return ready.status === 503 && /beta: RPC failing/.test(body) ? body : undefined;
    }, 'keeper /readyz failing on beta');
    // alpha is unaffected: the newest checkpoint gets its final anchor there while beta is down.
    const onAlpha = await finalAnchorOfNewest('alpha');
    await expectOnChain(alpha, onAlpha.anchor, onAlpha.checkpoint);

    betaProxy.resume();
    const onBeta = await finalAnchorOfNewest('beta');
    expect(onBeta.checkpoint.treeSize).toBeGreaterThanOrEqual(5 + latencies.length);
    await expectOnChain(beta, onBeta.anchor, onBeta.checkpoint);
    await until(
      async () => ((await fetch(`${keeperBase}/readyz`)).ok ? true : undefined),
      'keeper ready again',
    );

    // Exactly one transaction per job on each chain: no checkpoint anchored twice, nothing untracked.
    for (const [chain, node] of [
      ['alpha', alpha],
      ['beta', beta],
    ] as const) {
      const items = (await api<{ items: AnchorItem[] }>('GET', `/v1/anchors?chain=${chain}&limit=100`)).json
        .items;
      const onChain = await node.transactionsFrom(SIGNER.address);
      const sizes = onChain.map((t) => decodeAnchorPayload(t.input).treeSize);
      expect(new Set(sizes).size).toBe(sizes.length);
      expect(onChain.map((t) => t.hash).sort()).toEqual(
        items
          .filter((a) => a.state === 'final')
          .map((a) => a.txHash)
          .sort(),
      );
    }
  });
});
