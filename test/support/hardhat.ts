import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/**
 * A real `hardhat node` (hardhat 2, EDR) on 127.0.0.1 for tests: one per test file, snapshot/revert
 * between tests. Its `finalized` and `safe` block tags answer the latest block (docs/ANCHORING.md).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HARDHAT_CLI = path.join(ROOT, 'node_modules/hardhat/internal/cli/cli.js');
const CONFIG = path.join(ROOT, 'test/hardhat/hardhat.config.cjs');

/** Hardhat's well-known dev accounts (mnemonic "test test … junk"); public, for tests only. */
export const HARDHAT_ACCOUNTS = [
  {
    address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  },
  {
    address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    privateKey: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  },
  {
    address: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    privateKey: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  },
  {
    address: '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
    privateKey: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  },
] as const;

export interface HardhatNode {
  readonly url: string;
  readonly port: number;
  readonly chainId: number;
  rpc<T = unknown>(method: string, params?: readonly unknown[]): Promise<T>;
  snapshot(): Promise<string>;
  /** Reverts to a snapshot (a snapshot id can be used once; take a new one after). */
  revert(id: string): Promise<void>;
  /** Mines one block (evm_mine). */
  mine(): Promise<void>;
  /** Mines `blocks` empty blocks at once (hardhat_mine). */
  mineBlocks(blocks: number): Promise<void>;
  setAutomine(on: boolean): Promise<void>;
  blockNumber(): Promise<number>;
  /** Every transaction in blocks [from, latest], with its input. */
  transactionsFrom(address: string, fromBlock?: number): Promise<ChainTx[]>;
  stop(): Promise<void>;
}

export interface ChainTx {
  readonly hash: string;
  readonly from: string;
  readonly to: string | null;
  readonly nonce: number;
  readonly input: string;
  readonly blockNumber: number;
  readonly blockHash: string;
}

/**
 * The keeper's settings (the same names a collector with fleet anchoring takes) for anchoring on `node`
 * with `signerKey`, one confirmation, polling and backing off fast for tests. A SIGKILLed process's claim
 * on an anchor job runs out after KEEPER_LEASE_MS (then another replica takes it).
 */
export function anchoringEnv(
  node: Pick<HardhatNode, 'url' | 'chainId'>,
  signerKey: string,
): Record<string, string> {
  return {
    KEEPER_PROVIDER: 'evm',
    KEEPER_CHAINS: JSON.stringify([
      { name: 'local', rpcUrl: node.url, chainId: node.chainId, confirmations: 1 },
    ]),
    KEEPER_SIGNER_KEY: signerKey,
    KEEPER_BATCH_MAX_WAIT_MS: '300',
    KEEPER_POLL_MS: '50',
    KEEPER_CONFIRM_POLL_MS: '50',
    KEEPER_LEASE_MS: '1500',
    KEEPER_BACKOFF_BASE_MS: '50',
    KEEPER_BACKOFF_MAX_MS: '500',
    KEEPER_CRON_RECHECK_FINAL: 'off',
  };
}

/** A free TCP port on 127.0.0.1 (bound and released; the small race is acceptable in tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** JSON-RPC call helper for tests. */
export async function jsonRpc<T>(url: string, method: string, params: readonly unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** Starts `hardhat node` and waits until it answers eth_chainId. */
export async function startHardhatNode(
  options: {
    chainId?: number;
    /** e.g. 'berlin': pre-London, no base fee, no `finalized` tag */ hardfork?: string;
  } = {},
): Promise<HardhatNode> {
  const chainId = options.chainId ?? 31337;
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [HARDHAT_CLI, 'node', '--config', CONFIG, '--hostname', '127.0.0.1', '--port', String(port)],
    {
      cwd: path.dirname(CONFIG),
      env: {
        ...process.env,
        FIELDPROOF_HARDHAT_CHAIN_ID: String(chainId),
        FIELDPROOF_HARDHAT_HARDFORK: options.hardfork ?? '',
        HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
        DO_NOT_TRACK: '1',
      },
      detached: true, // its own process group: stop() kills the whole group
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited early:\n${output}`);
    try {
      const id = await jsonRpc<string>(url, 'eth_chainId');
      if (Number(id) !== chainId) throw new Error(`hardhat node answers chainId ${id}, expected ${chainId}`);
      break;
    } catch (err) {
      if (err instanceof Error && err.message.includes('expected')) throw err;
      if (Date.now() > deadline) {
        killGroup(child);
        throw new Error(`hardhat node did not answer within 30 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const rpc = <T>(method: string, params: readonly unknown[] = []) => jsonRpc<T>(url, method, params);
  return {
    url,
    port,
    chainId,
    rpc,
    snapshot: () => rpc<string>('evm_snapshot'),
    async revert(id) {
      const ok = await rpc<boolean>('evm_revert', [id]);
      if (!ok) throw new Error(`evm_revert ${id} failed`);
    },
    async mine() {
      await rpc('evm_mine');
    },
    async mineBlocks(blocks) {
      await rpc('hardhat_mine', [`0x${blocks.toString(16)}`]);
    },
    async setAutomine(on) {
      await rpc('evm_setAutomine', [on]);
    },
    async blockNumber() {
      return Number(await rpc<string>('eth_blockNumber'));
    },
    async transactionsFrom(address, fromBlock = 0) {
      const head = Number(await rpc<string>('eth_blockNumber'));
      const out: ChainTx[] = [];
      for (let n = fromBlock; n <= head; n++) {
        const block = await rpc<{ hash: string; transactions: RawTx[] }>('eth_getBlockByNumber', [
          `0x${n.toString(16)}`,
          true,
        ]);
        for (const tx of block.transactions) {
          if (tx.from.toLowerCase() !== address.toLowerCase()) continue;
          out.push({
            hash: tx.hash,
            from: tx.from,
            to: tx.to,
            nonce: Number(tx.nonce),
            input: tx.input,
            blockNumber: n,
            blockHash: block.hash,
          });
        }
      }
      return out;
    },
    async stop() {
      if (child.exitCode === null) {
        killGroup(child);
        await exited;
      }
    },
  };
}

interface RawTx {
  hash: string;
  from: string;
  to: string | null;
  nonce: string;
  input: string;
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * The hardhat node of one test file, as graphile-worker's helpers give a database: started before the
 * file's first test and stopped after its last, however they end. With `snapshots`, every test starts
 * from the chain as the previous one found it (a snapshot before each test; automine back on and a
 * revert after it). The returned object stands for the node once it runs (use it inside tests and
 * hooks only).
 */
export function useHardhatNode(
  options: Parameters<typeof startHardhatNode>[0] = {},
  { snapshots = false }: { readonly snapshots?: boolean } = {},
): HardhatNode {
  let started: HardhatNode | undefined;
  let snapshot: string | undefined;
  beforeAll(async () => {
    started = await startHardhatNode(options);
  });
  afterAll(async () => {
    await started?.stop();
  });
  if (snapshots) {
    beforeEach(async () => {
      snapshot = await started!.snapshot();
    });
    afterEach(async () => {
      await started!.setAutomine(true);
      await started!.revert(snapshot!);
    });
  }
  return new Proxy({} as HardhatNode, {
    get(_, key) {
      if (started === undefined) throw new Error('the hardhat node is not started yet (use it inside tests)');
      const value: unknown = Reflect.get(started, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(started) : value;
    },
  });
}
