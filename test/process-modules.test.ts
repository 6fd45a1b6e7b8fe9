import { spawn } from 'node:child_process';
import fs from 'node:fs';
import nodeModule from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { tempDir } from './support/databases.js';
import { runNode } from './support/processes.js';
import { waitFor } from './support/wait-for.js';

// What each process loads, recorded by a resolve hook in the process itself (support/record-modules.mjs)
// and compared by package: the api must not carry the keeper, ethers or the CLI (memory on a Pi, start-up
// time, attack surface); the keeper not fastify or the api; `fieldproof --help` nothing but the CLI's
// own few modules. Runs the BUILT entry points (`npm run build` first; `npm test` does it).

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RECORDER = fileURLToPath(new URL('./support/record-modules.mjs', import.meta.url));
const ENTRY = {
  api: 'apps/api/dist/index.js',
  keeper: 'apps/keeper/dist/index.js',
  collector: 'apps/collector/dist/index.js',
} as const;

/** `@fieldproof/<name>` for our packages, `apps/<name>`, the npm package name, or `node:…`. */
function packageOf(url: string): string {
  if (url.startsWith('node:')) return 'node:';
  if (url.startsWith('internal:')) return url; // Node's bundled undici (support/record-modules.mjs)
  const file = fileURLToPath(url);
  const modules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
  if (modules !== null) return modules[1]!;
  const ours = /^(packages|apps)\/([^/]+)\//.exec(path.relative(ROOT, file));
  if (ours === null) return file;
  return ours[1] === 'packages' ? `@fieldproof/${ours[2]}` : `apps/${ours[2]}`;
}

function packagesIn(file: string): Set<string> {
  const urls = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  return new Set(urls.map(packageOf));
}

/** Starts a service entry point with the recorder, waits for its ready line, stops it with SIGTERM. */
async function servicePackages(
  name: keyof typeof ENTRY,
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<Set<string>> {
  const dir = tempDir();
  const record = path.join(dir, 'modules.txt');
  const child = spawn(process.execPath, ['--import', RECORDER, path.join(ROOT, ENTRY[name])], {
    cwd: dir,
    env: {
      ...process.env,
      FIELDPROOF_RECORD_MODULES: record,
      API_DB_URL: `sqlite://${path.join(dir, 'fieldproof.sqlite3')}`,
      KEEPER_DB_URL: '',
      FIELDPROOF_DATA_DIR: dir,
      API_PORT: '0',
      KEEPER_HTTP_PORT: '0',
      KEEPER_PROVIDER: 'stub',
      COLLECTOR_DB_URL: `sqlite://${path.join(dir, 'collector.sqlite3')}`,
      COLLECTOR_DATA_DIR: path.join(dir, 'collector-data'),
      COLLECTOR_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // Ready, or exited (the assertions below then show its output); a timeout is a failure too.
  await waitFor('the process to be ready', () => ready.test(out) || child.exitCode !== null, {
    explain: () => out,
  }).finally(() => child.kill('SIGTERM'));
  expect(await exited, out).toBe(0);
  expect(out).toMatch(ready);
  return packagesIn(record);
}

// module.registerHooks came with Node 22.15 (and is newer than @types/node 20): before it, nothing records.
describe.skipIf(!('registerHooks' in nodeModule))('what each process loads', { timeout: 60_000 }, () => {
  it('the api entry point: the api package, never the keeper, ethers or the CLI', async () => {
    const loaded = await servicePackages('api', /"msg":"api listening"/);
    expect(loaded).toContain('@fieldproof/api');
    expect(loaded).toContain('fastify');
    for (const absent of ['@fieldproof/keeper', '@fieldproof/cli', 'ethers', 'node-cron']) {
      expect(loaded, absent).not.toContain(absent);
    }
    // An ESM import of node:http loads undici (~10 MB resident) for its WebSocket export: neither needs it.
    expect(loaded).not.toContain('internal:undici');
  });

  it("the api with API_DOCS=off (the units' setting): no swagger, no swagger-ui", async () => {
    const loaded = await servicePackages('api', /"msg":"api listening"/, { API_DOCS: 'off' });
    expect(loaded).toContain('fastify');
    for (const absent of ['@fastify/swagger', '@fastify/swagger-ui', '@fastify/static', 'yaml']) {
      expect(loaded, absent).not.toContain(absent);
    }
    // …and with /docs on (the default) it does load them: the assertion above can fail.
    const withDocs = await servicePackages('api', /"msg":"api listening"/, { API_DOCS: 'on' });
    expect(withDocs).toContain('@fastify/swagger');
    expect(withDocs).toContain('@fastify/swagger-ui');
  });

  it('the keeper entry point: the keeper package, never fastify, the api or the CLI', async () => {
    const loaded = await servicePackages('keeper', /"msg":"keeper started"/);
    expect(loaded).toContain('@fieldproof/keeper');
    for (const absent of ['@fieldproof/api', '@fieldproof/cli', 'fastify', 'internal:undici']) {
      expect(loaded, absent).not.toContain(absent);
    }
  });

  it('the keeper with the stub provider loads no chain code; with a chain configured it does', async () => {
    const chainCode = ['ethers', '@ethereumjs/mpt'];
    const stub = await servicePackages('keeper', /"msg":"keeper started"/);
    for (const absent of chainCode) expect(stub, absent).not.toContain(absent);
    // …and with a chain (its RPC unreachable: starting does not need it) the same check would fail.
    const evm = await servicePackages('keeper', /"msg":"keeper started"/, {
      KEEPER_PROVIDER: 'evm',
      KEEPER_CHAINS: JSON.stringify([
        { name: 'local', rpcUrl: 'http://127.0.0.1:9', chainId: 31337, confirmations: 2 },
      ]),
      // hardhat's public development account #1: a well-known test key, never a real one
      KEEPER_SIGNER_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
    });
    expect(evm).toContain('ethers');
  });

  it('the collector entry point: the collector package, never the keeper, ethers or the CLI', async () => {
    const loaded = await servicePackages('collector', /"msg":"collector listening"/);
    expect(loaded).toContain('@fieldproof/collector');
    for (const absent of ['@fieldproof/keeper', '@fieldproof/cli', 'ethers', 'node-cron']) {
      expect(loaded, absent).not.toContain(absent);
    }
  });

  it('`fieldproof --help`: the CLI and node alone (no command is loaded to list them)', async () => {
    const dir = tempDir();
    const record = path.join(dir, 'modules.txt');
    const result = await runNode(['--import', RECORDER, FIELDPROOF_BIN, '--help'], {
      FIELDPROOF_RECORD_MODULES: record,
    });
    expect(result.code).toBe(0);
    expect([...packagesIn(record)].sort()).toEqual(['@fieldproof/cli', 'node:']);
  });

  it('`fieldproof verify`: neither server nor the chain library', async () => {
    const dir = tempDir();
    const record = path.join(dir, 'modules.txt');
    const result = await runNode(['--import', RECORDER, FIELDPROOF_BIN, 'verify', '--help'], {
      FIELDPROOF_RECORD_MODULES: record,
    });
    expect(result.code).toBe(0);
    const loaded = packagesIn(record);
    // The command's help is its table entry and usage: the verifier itself loads when a check runs.
    expect(loaded).not.toContain('@fieldproof/receipt');
    for (const absent of ['@fieldproof/api', '@fieldproof/keeper', 'fastify', 'ethers']) {
      expect(loaded, absent).not.toContain(absent);
    }
  });

  it("`fieldproof status`: the api package's status module, never fastify, the keeper or ethers", async () => {
    const dir = tempDir();
    const record = path.join(dir, 'modules.txt');
    const result = await runNode(['--import', RECORDER, FIELDPROOF_BIN, 'status', '--help'], {
      FIELDPROOF_RECORD_MODULES: record,
    });
    expect(result.code).toBe(0);
    const loaded = packagesIn(record);
    expect(loaded).toContain('@fieldproof/db');
    for (const absent of ['@fieldproof/keeper', 'fastify', 'ethers', 'playwright-core', 'esbuild']) {
      expect(loaded, absent).not.toContain(absent);
    }
  });

  it('`fieldproof verify receipt.json`: one receipt checked without better-sqlite3, the db or the chain library', async () => {
    const dir = tempDir();
    const record = path.join(dir, 'modules.txt');
    const receiptFile = path.join(dir, 'receipt.json');
    fs.writeFileSync(receiptFile, JSON.stringify(await sampleReceipt()));
    const result = await runNode(['--import', RECORDER, FIELDPROOF_BIN, 'verify', receiptFile], {
      FIELDPROOF_RECORD_MODULES: record,
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^verdict: VERIFIED/m);
    const loaded = packagesIn(record);
    expect(loaded).toContain('@fieldproof/receipt');
    for (const absent of [
      'better-sqlite3',
      'bindings',
      '@fieldproof/db',
      '@fieldproof/proofs',
      'kysely',
      'pg',
      'ethers',
    ]) {
      expect(loaded, absent).not.toContain(absent);
    }
  });

  it('`@fieldproof/receipt` and `@fieldproof/note/verify` import no node: module (browser bundle seam)', async () => {
    const dir = tempDir();
    const record = path.join(dir, 'modules.txt');
    const receiptFile = path.join(dir, 'receipt.json');
    fs.writeFileSync(receiptFile, JSON.stringify(await sampleReceipt()));
    const script = path.join(dir, 'verify-one.mjs');
    fs.writeFileSync(
      script,
      `const { createReceiptChecker } = await import(${JSON.stringify(path.join(ROOT, 'packages/receipt/dist/index.js'))});\n` +
        `const receipt = JSON.parse(process.argv[2]);\n` +
        `const v = await createReceiptChecker().check(receipt);\n` +
        `if (!v.ok) { console.error(JSON.stringify(v.links)); process.exit(1); }\n`,
    );
    const result = await runNode(['--import', RECORDER, script, fs.readFileSync(receiptFile, 'utf8')], {
      FIELDPROOF_RECORD_MODULES: record,
    });
    expect(result.code, result.stderr).toBe(0);
    const urls = fs
      .readFileSync(record, 'utf8')
      .split('\n')
      .filter((u) => u !== '' && !u.endsWith('record-modules.mjs') && !u.endsWith('verify-one.mjs'));
    // node:crypto is reached through process.getBuiltinModule (never an import), so it is not listed.
    expect(urls.filter((u) => u.startsWith('node:'))).toEqual([]);
    expect([...new Set(urls.map(packageOf))].sort()).toEqual(
      expect.arrayContaining(['@fieldproof/merkle', '@fieldproof/note', '@fieldproof/receipt']),
    );
    for (const absent of ['better-sqlite3', 'ethers', '@fieldproof/db'])
      expect(urls.map(packageOf)).not.toContain(absent);
  });
});

/** A fieldproof-receipt/v2 of a one-record log, built by the one builder from the built packages. */
async function sampleReceipt(): Promise<unknown> {
  const { generateDeviceKey, signCheckpoint } = await import('@fieldproof/note');
  const { MemoryTree } = await import('@fieldproof/merkle');
  const { buildReceipt, leafHashOf } = await import('@fieldproof/receipt');
  const key = generateDeviceKey('fieldproof.test/modules');
  const evidence = {
    id: 'r-1',
    digest: 'ab'.repeat(32),
    kind: 'detection',
    occurredAt: 1,
    receivedAt: 2,
    payloadMime: null,
    metadata: null,
  };
  const tree = new MemoryTree();
  tree.append([leafHashOf(evidence)]);
  const note = signCheckpoint({ origin: 'fieldproof.test/modules', treeSize: 1, root: tree.root() }, key);
  return buildReceipt({
    evidence,
    leafIndex: 0,
    inclusionProof: [],
    checkpointNote: note,
    devicePublicKey: key.verifierKey,
  });
}
