import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@fieldproof/config';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './support/anchor-fixtures.js';
import { tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, freePort, jsonRpc } from './support/hardhat.js';

/**
 * `npm run chain` (deploy/local-chain/start-chain.mjs), the local chain of docs/ANCHORING.md's
 * walk-through: its node mines on an interval — blocks advance with no transaction sent, so an anchor
 * reaches the default 12 confirmations by itself — and the keeper settings it prints load as they are
 * in the keeper's config loader, with a key file the keeper accepts (0600, a funded account).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = path.join(ROOT, 'deploy/local-chain/start-chain.mjs');

let child: ChildProcess;
let stdout = '';
let url: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir('fieldproof-chain-');
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, FIELDPROOF_CHAIN_PORT: String(port), FIELDPROOF_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // The settings are printed once the node answers: wait for their last line.
  await waitFor(async () => /^npm start$/m.test(stdout) || child.exitCode !== null, 60_000, 'settings');
  expect(child.exitCode, stderr).toBeNull();
}, 90_000);

afterAll(async () => {
  if (child?.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT'); // what Ctrl-C does: the script stops its hardhat node and exits
    await exited;
  }
});

describe('npm run chain', { timeout: 60_000 }, () => {
  it('starts a node of chain 31337 whose blocks advance without transactions', async () => {
    expect(Number(await jsonRpc<string>(url, 'eth_chainId'))).toBe(31337);
    const start = Number(await jsonRpc<string>(url, 'eth_blockNumber'));
    let head = start;
    await waitFor(
      async () => {
        head = Number(await jsonRpc<string>(url, 'eth_blockNumber'));
        return head >= start + 2;
      },
      30_000,
      'two more blocks',
    );
    // Nothing was sent to the node: every block since start is empty, mined by the interval alone.
    for (let n = start + 1; n <= head; n++) {
      const block = await jsonRpc<{ transactions: unknown[] }>(url, 'eth_getBlockByNumber', [
        `0x${n.toString(16)}`,
        false,
      ]);
      expect(block.transactions).toEqual([]);
    }
  });

  it('prints keeper settings that the config loader takes as they are, with a funded 0600 key', async () => {
    const env = printedSettings(stdout);
    expect(Object.keys(env).sort()).toEqual([
      'KEEPER_BATCH_MAX_WAIT_MS',
      'KEEPER_CHAINS',
      'KEEPER_CONFIRM_POLL_MS',
      'KEEPER_PROVIDER',
      'KEEPER_SIGNER_KEY_FILE',
    ]);
    const { config, secrets } = loadConfig(
      { ...env, API_DB_URL: `sqlite://${path.join(dataDir, 'fieldproof.sqlite3')}` },
      ROOT,
    );
    expect(config.keeper.provider).toBe('evm');
    expect(config.keeper.chains).toHaveLength(1);
    expect(config.keeper.chains[0]).toMatchObject({ rpcUrl: url, chainId: 31337, confirmations: 12 });

    const keyFile = secrets.signerKeyFile!;
    expect(keyFile).toBe(path.join(dataDir, 'chain', 'evm.key'));
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const wallet = new Wallet(`0x${fs.readFileSync(keyFile, 'utf8').trim()}`);
    expect(wallet.address).toBe(HARDHAT_ACCOUNTS[0].address);
    const balance = BigInt(await jsonRpc<string>(url, 'eth_getBalance', [wallet.address, 'latest']));
    expect(balance).toBeGreaterThan(10n ** 21n); // > 1000 ETH: thousands of anchors
  });
});

/** `NAME=value` and `NAME='value'` pairs of the printed settings block, as a shell would read them. */
function printedSettings(text: string): Record<string, string> {
  const block = text.slice(text.indexOf('Keeper settings'), text.search(/^npm start$/m));
  const env: Record<string, string> = {};
  for (const match of block.matchAll(/\b([A-Z][A-Z0-9_]*)=(?:'([^']*)'|(\S+))/g)) {
    env[match[1]!] = match[2] ?? match[3]!;
  }
  return env;
}
