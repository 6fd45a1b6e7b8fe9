// `npm run chain`: a local EVM chain to anchor on, for trying fieldproof end to end on one machine
// (walk-through: docs/ANCHORING.md §0). Starts a hardhat node (chain id 31337) that mines a block every
// second, writes the well-known hardhat account #0 key — funded with 10 000 ETH on every hardhat node, and
// public: never use it on a real chain — to <data dir>/chain/evm.key (mode 0600), and prints the keeper
// settings that anchor on it. Ctrl-C stops the node; the chain does not survive it.
//
//   FIELDPROOF_CHAIN_PORT      RPC port (default 8545), on FIELDPROOF_CHAIN_HOST (default 127.0.0.1)
//   FIELDPROOF_CHAIN_BLOCK_MS  block interval in ms (default 1000)
//   FIELDPROOF_DATA_DIR        where chain/evm.key goes (default ./fieldproof-data)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const HARDHAT_CLI = path.join(ROOT, 'node_modules/hardhat/internal/cli/cli.js');
const CHAIN_ID = 31337;
/** Hardhat's default account #0 (mnemonic "test test … junk"): public knowledge, local chains only. */
const ACCOUNT_0 = {
  address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  privateKey: 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
};

const env = process.env;
const host = env.FIELDPROOF_CHAIN_HOST || '127.0.0.1';
const port = Number(env.FIELDPROOF_CHAIN_PORT || 8545);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  fail(`FIELDPROOF_CHAIN_PORT must be a port number, got "${env.FIELDPROOF_CHAIN_PORT}"`);
}
const dataDir = path.resolve(env.FIELDPROOF_DATA_DIR || 'fieldproof-data');
const keyFile = path.join(dataDir, 'chain', 'evm.key');

if (!fs.existsSync(HARDHAT_CLI)) fail(`hardhat is not installed (${HARDHAT_CLI}): run npm ci first`);
writeKeyFile(keyFile);

const child = spawn(
  process.execPath,
  [
    HARDHAT_CLI,
    'node',
    '--config',
    path.join(HERE, 'hardhat.config.cjs'),
    '--hostname',
    host,
    '--port',
    String(port),
  ],
  {
    cwd: HERE,
    env: { ...env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', DO_NOT_TRACK: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
// Hardhat's banner lists twenty private keys; only its errors are worth showing.
let banner = '';
child.stdout.on('data', (d) => (banner = (banner + d.toString()).slice(-4000)));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (!ready) process.stderr.write(banner);
  process.exitCode = code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1);
});

let ready = false;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
await waitUntilReady();

async function waitUntilReady() {
  for (let tries = 0; child.exitCode === null; tries++) {
    try {
      const chainId = Number(await rpc('eth_chainId'));
      if (chainId !== CHAIN_ID) fail(`${url} answers chain id ${chainId}, expected ${CHAIN_ID}`);
      // `hardhat node` logs every RPC call; the keeper polls, so the log would be all polling.
      if (env.FIELDPROOF_CHAIN_VERBOSE !== '1') await rpc('hardhat_setLoggingEnabled', [false]);
      ready = true;
      printSettings(Number(await rpc('eth_blockNumber')));
      return;
    } catch (err) {
      if (tries > 600) {
        child.kill('SIGKILL');
        fail(`the hardhat node did not answer at ${url} within 60 s: ${err.message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function printSettings(block) {
  const keyPath = path.relative(ROOT, keyFile).startsWith('..') ? keyFile : path.relative(ROOT, keyFile);
  const chains = JSON.stringify([{ name: 'hardhat', rpcUrl: url, chainId: CHAIN_ID, confirmations: 12 }]);
  process.stdout.write(
    `local chain: hardhat node at ${url}, chain id ${CHAIN_ID}, a block every ` +
      `${Number(env.FIELDPROOF_CHAIN_BLOCK_MS || 1000)} ms (now at block ${block})\n` +
      `signer: hardhat account #0 ${ACCOUNT_0.address} (10000 ETH), key in ${keyPath} (0600)\n` +
      '  — a publicly known key: use it on this local chain only\n' +
      '\n' +
      'Keeper settings (from the repository root, in another terminal):\n' +
      '\n' +
      'KEEPER_PROVIDER=evm \\\n' +
      `KEEPER_CHAINS='${chains}' \\\n` +
      `KEEPER_SIGNER_KEY_FILE=${keyPath} \\\n` +
      'KEEPER_BATCH_MAX_WAIT_MS=5000 KEEPER_CONFIRM_POLL_MS=2000 \\\n' +
      'npm start\n' +
      '\n' +
      'The chain lives as long as this process: Ctrl-C stops it (start the keeper on a fresh database then).\n',
  );
}

function writeKeyFile(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Nothing under the chain folder belongs in git, whatever the repository's .gitignore says.
  fs.writeFileSync(path.join(path.dirname(file), '.gitignore'), '*\n');
  // Written whole each time with mode 0600 (the keeper refuses a key file group or others can read).
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `${ACCOUNT_0.privateKey}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

async function rpc(method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5000),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

function fail(message) {
  process.stderr.write(`npm run chain: ${message}\n`);
  process.exit(1);
}
