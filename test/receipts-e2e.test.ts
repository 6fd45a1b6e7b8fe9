import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, freePort, startHardhatNode, type HardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { waitFor } from './support/wait-for.js';
import { OFFLINE_LINKS_OK } from './support/receipt-links.js';
import { writeFileIn } from './support/files.js';

/**
 * End to end, every piece real and BUILT (`npm run build` first): a hardhat node, `fieldproof api` and
 * `fieldproof keeper` as processes on one SQLite file. Evidence goes in over HTTP, the keeper anchors it
 * to `final`, the receipt comes out over HTTP and `fieldproof verify` checks it offline and on the chain.
 * Then the chain reorganises the anchor away: the old receipt fails its chain link, while the keeper
 * re-anchors and a fresh receipt verifies.
 */
const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));
const SIGNER = HARDHAT_ACCOUNTS[2];
const ORIGIN = 'fieldproof.test/e2e-unit';

interface Receipt {
  checkpoint: { treeSize: number; note: string };
  leaf: { leafIndex: number };
  anchors: {
    chainId: number;
    txHash: string;
    blockNumber: number | null;
    blockHash: string | null;
    blockTimestamp: number | null;
    state: string;
    from?: string;
  }[];
}

interface Report {
  ok: boolean;
  failed: string[];
  unchecked: string[];
  links: { link: string; status: string; detail: string }[];
}

let node: HardhatNode;
let dir: string;
let env: Record<string, string>;
let base: string;
let apiKey: string;
let verifierKey: string;
const processes = new Map<
  string,
  { child: ChildProcess; output: () => string; exited: Promise<number | null> }
>();

function startProcess(name: 'api' | 'keeper') {
  const child = spawn(process.execPath, [BIN, name], { cwd: dir, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  processes.set(name, { child, output: () => output, exited });
}

async function stopProcess(name: string): Promise<number | null> {
  const p = processes.get(name);
  if (p === undefined) return null;
  processes.delete(name);
  if (p.child.exitCode === null) p.child.kill('SIGTERM');
  return p.exited;
}

async function http<T>(method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${apiKey}`, ...headers } };
  if (body !== undefined) {
    init.body = body instanceof Uint8Array ? body : JSON.stringify(body);
    if (!(body instanceof Uint8Array))
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${route}`, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = Buffer.from(bytes).toString('utf8');
  return { status: res.status, bytes, json: () => JSON.parse(text) as T };
}

/** Polls `probe`; mines a block between tries (unless told not to), so anchors gather confirmations. */
async function until<T>(
  probe: () => Promise<T | undefined>,
  label: string,
  timeoutMs = 60_000,
  mine = true,
): Promise<T> {
  return waitFor(label, probe, {
    timeoutMs,
    intervalMs: 150,
    between: async () => (mine ? node.mine() : undefined),
    explain: () => [...processes].map(([n, p]) => `--- ${n}\n${p.output()}`).join('\n'),
  });
}

async function finalReceipt(id: string, notBlockHash?: string): Promise<Receipt> {
  return until(async () => {
    const res = await http<Receipt>('GET', `/v1/evidence/${id}/receipt?format=v1`);
    if (res.status !== 200) return undefined;
    const receipt = res.json();
    const anchor = receipt.anchors[0];
    return anchor?.state === 'final' && anchor.blockHash !== notBlockHash ? receipt : undefined;
  }, `final receipt of ${id}`);
}

const write = (name: string, value: unknown): string => writeFileIn(dir, name, value);

async function verify(args: string[], extraEnv: Record<string, string> = {}) {
  const result = await runNode([BIN, 'verify', ...args], extraEnv, { cwd: dir, timeoutMs: 60_000 });
  const report = args.includes('--json') ? (JSON.parse(result.stdout) as Report) : undefined;
  return { ...result, report };
}

beforeAll(async () => {
  node = await startHardhatNode();
  dir = tempDir('fieldproof-e2e-');
  const apiPort = await freePort();
  env = {
    API_DB_URL: `sqlite://${path.join(dir, 'fieldproof.sqlite3')}`,
    KEEPER_DB_URL: '',
    FIELDPROOF_DATA_DIR: dir,
    FIELDPROOF_LOG_ORIGIN: ORIGIN,
    FIELDPROOF_DEVICE_KEY: '',
    FIELDPROOF_DEVICE_KEY_FILE: '',
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    KEEPER_HTTP_PORT: String(await freePort()),
    KEEPER_PROVIDER: 'evm',
    KEEPER_CHAINS: JSON.stringify([
      { name: 'hardhat', rpcUrl: node.url, chainId: node.chainId, confirmations: 2 },
    ]),
    KEEPER_SIGNER_KEY: SIGNER.privateKey,
    KEEPER_SIGNER_KEY_FILE: '',
    KEEPER_BATCH_MAX_LEAVES: '1',
    KEEPER_BATCH_MAX_WAIT_MS: '0',
    KEEPER_POLL_MS: '50',
    KEEPER_CONFIRM_POLL_MS: '100',
    KEEPER_BACKOFF_BASE_MS: '100',
    KEEPER_BACKOFF_MAX_MS: '1000',
    // Not a load test: a busy CI machine must not make the api shed the test's own requests (0: off).
    API_MAX_EVENT_LOOP_DELAY_MS: '0',
    LOG_LEVEL: 'warn',
  };
  base = `http://127.0.0.1:${apiPort}`;
  const keys = await runNode([BIN, 'keys', 'create', '--scopes', 'read,write', '--json'], env, { cwd: dir });
  expect(keys.code, keys.stderr).toBe(0);
  apiKey = (JSON.parse(keys.stdout) as { key: string }).key;
  const device = await runNode([BIN, 'device', '--json'], env, { cwd: dir });
  expect(device.code, device.stderr).toBe(0);
  verifierKey = (JSON.parse(device.stdout) as { verifierKey: string }).verifierKey;
  startProcess('api');
  startProcess('keeper');
  await until(async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 'api up', 30_000, false);
}, 120_000);

afterAll(async () => {
  for (const name of [...processes.keys()]) await stopProcess(name);
  await node?.stop();
});

// Processes, a chain and confirmations: generous per-test limits for a loaded machine.
describe('a receipt from a running device, anchored on a real EVM node', { timeout: 180_000 }, () => {
  let receipt: Receipt;
  let receiptFile: string;
  let contentFile: string;
  const rpc = () => ['--rpc', node.url];

  it('write evidence over HTTP, anchor it to final, fetch the receipt, verify it offline and with --rpc', async () => {
    const payload = { detection: 'drone', bearingDeg: 212.5, confidence: 0.93 };
    const posted = await http<{ id: string }>('POST', '/v1/evidence', {
      payload,
      kind: 'detection',
      occurredAt: Date.now() - 1000,
      metadata: { unit: 'e2e', site: { lat: 48.1, lon: 11.6 } },
    });
    expect(posted.status).toBe(201);
    const { id } = posted.json();
    const photo = new TextEncoder().encode('jpeg bytes of a field photo\n');
    const uploaded = await http<{ id: string }>(
      'POST',
      `/v1/evidence?kind=photo&occurredAt=${Date.now()}&payloadMime=image/jpeg`,
      photo,
      {
        'content-type': 'application/octet-stream',
      },
    );
    expect(uploaded.status).toBe(201);

    receipt = await finalReceipt(id);
    expect(receipt.anchors).toHaveLength(1);
    expect(receipt.anchors[0]).toMatchObject({ chainId: node.chainId, state: 'final' });
    expect(receipt.anchors[0]!.from?.toLowerCase()).toBe(SIGNER.address.toLowerCase());
    receiptFile = write('receipt.json', receipt);
    const content = await http('GET', `/v1/evidence/${id}/content`);
    expect(content.status).toBe(200);
    contentFile = write('content.json', content.bytes);
    const anchorLink = `anchor:${node.chainId}:${receipt.anchors[0]!.txHash}`;

    const offline = await verify([receiptFile, '--content', contentFile, '--expect-key', verifierKey]);
    expect(offline.code, offline.stdout + offline.stderr).toBe(0);
    expect(offline.stdout).toMatch(new RegExp(`^unchecked ${anchorLink}: no RPC URL given`, 'm'));
    expect(offline.stdout).toMatch(
      new RegExp(`^verdict: VERIFIED — every requested check holds; unchecked: ${anchorLink}$`, 'm'),
    );

    const online = await verify([
      receiptFile,
      '--content',
      contentFile,
      '--expect-key',
      verifierKey,
      ...rpc(),
      '--min-confirmations',
      '2',
      '--require-final',
      '--json',
    ]);
    expect(online.code, online.stdout + online.stderr).toBe(0);
    expect(online.report?.links.map((l) => [l.link, l.status])).toEqual([
      ...OFFLINE_LINKS_OK,
      [anchorLink, 'ok'],
      ['anchors', 'ok'],
    ]);
    expect(online.report?.links.find((l) => l.link === anchorLink)?.detail).toMatch(/final/);

    // The uploaded bytes' receipt verifies against the bytes too.
    const photoReceipt = await finalReceipt(uploaded.json().id);
    const photoCheck = await verify([
      write('photo-receipt.json', photoReceipt),
      '--content',
      write('photo.jpg', photo),
      ...rpc(),
    ]);
    expect(photoCheck.code, photoCheck.stdout).toBe(0);

    // The default, fieldproof-receipt/v2: once the keeper stored the anchor's proof, the receipt carries
    // raw transaction, trie proof and header, and verifies with a trusted block line — no RPC asked.
    const v2 = await until(async () => {
      const res = await http<{ anchors: { steps: { type: string; number?: number; hash?: string }[] }[] }>(
        'GET',
        `/v1/evidence/${id}/receipt`,
      );
      const body = res.status === 200 ? res.json() : undefined;
      return body?.anchors[0]?.steps.some((s) => s.type === 'header') === true ? body : undefined;
    }, 'v2 receipt with an anchor proof');
    const block = v2.anchors[0]!.steps.find((s) => s.type === 'block')!;
    const blocksFile = write(
      'blocks.txt',
      new TextEncoder().encode(`${node.chainId} ${block.number} ${block.hash}\n`),
    );
    const v2File = write('receipt-v2.json', v2);
    const trusted = await verify([
      v2File,
      '--content',
      contentFile,
      '--expect-key',
      verifierKey,
      '--trusted-blocks',
      blocksFile,
    ]);
    expect(trusted.code, trusted.stdout + trusted.stderr).toBe(0);
    expect(trusted.stdout).toMatch(/^verdict: VERIFIED — every requested check holds$/m);
    // The record names the newest finalized block the api knew (a v2 leaf) once it has seen one: the line
    // then starts with that lower end. Whether it had seen one when the record arrived depends on timing.
    expect(trusted.stdout).toMatch(
      /^time: {5}(after block \d+ of chain \d+ \([^)]*\), )?no later than block \d+ of chain \d+ /m,
    );
    const viaRpc = await verify([v2File, '--content', contentFile, '--expect-key', verifierKey, ...rpc()]);
    expect(viaRpc.code, viaRpc.stdout).toBe(0);
    expect(viaRpc.stdout).toMatch(
      /^ok {8}canonical:\d+:\d+: 127\.0\.0\.1:\d+: block \d+ of chain \d+ is 0x/m,
    );
  });

  it('a changed anchor field fails the chain link', async () => {
    const flip = (hex: string) => `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;
    const cases: { name: string; tamper: (a: Receipt['anchors'][number]) => void; link: RegExp }[] = [
      { name: 'blockNumber', tamper: (a) => (a.blockNumber! += 1), link: /^anchor:/ },
      { name: 'blockHash', tamper: (a) => (a.blockHash = flip(a.blockHash!)), link: /^anchor:/ },
      { name: 'blockTimestamp', tamper: (a) => (a.blockTimestamp! += 1000), link: /^anchor:/ },
      { name: 'txHash', tamper: (a) => (a.txHash = flip(a.txHash)), link: /^anchor:/ },
      { name: 'from', tamper: (a) => (a.from = HARDHAT_ACCOUNTS[3].address), link: /^anchor:/ },
      { name: 'chainId', tamper: (a) => (a.chainId = 1), link: /^anchors$/ },
    ];
    await Promise.all(
      cases.map(async ({ name, tamper, link }) => {
        const tampered = JSON.parse(JSON.stringify(receipt)) as Receipt;
        tamper(tampered.anchors[0]!);
        const result = await verify([write(`anchor-${name}.json`, tampered), ...rpc(), '--json']);
        expect(result.code, name).toBe(1);
        expect(
          result.report?.failed.some((l) => link.test(l)),
          `${name}: ${JSON.stringify(result.report?.links)}`,
        ).toBe(true);
        // Offline the anchor is not looked at: the same receipt passes, with the anchor unchecked.
        expect((await verify([write(`anchor-${name}-offline.json`, tampered)])).code, name).toBe(0);
      }),
    );
  });

  it('an auditor who kept the checkpoint proves over the api that the log only grew', async () => {
    const more = await http<{ id: string }>('POST', '/v1/evidence', {
      payload: { later: true },
      kind: 'detection',
      occurredAt: Date.now(),
    });
    const later = await until(async () => {
      const res = await http<{ leafIndex: number | null }>('GET', `/v1/evidence/${more.json().id}`);
      return res.json().leafIndex ?? undefined;
    }, 'sequenced');
    expect(later).toBeGreaterThanOrEqual(receipt.checkpoint.treeSize);
    const kept = write('kept-checkpoint.txt', receipt.checkpoint.note);
    const result = await verify(['--consistency', kept, '--api', base, '--expect-key', verifierKey], {
      FIELDPROOF_API_KEY: apiKey,
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^ok {8}consistency: tree \\d+ extends tree ${receipt.checkpoint.treeSize}`, 'm'),
    );
    const noKey = await verify(['--consistency', kept, '--api', base, '--expect-key', verifierKey]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/401 FP_UNAUTHORIZED/);
  });

  it('a receipt whose anchor transaction was reorged away fails the chain link; the re-anchored receipt verifies', async () => {
    const beforeAnchor = await node.snapshot();
    const posted = await http<{ id: string }>('POST', '/v1/evidence', {
      digest: 'ab'.repeat(32),
      kind: 'audit',
      occurredAt: Date.now(),
    });
    expect(posted.status).toBe(201);
    const { id } = posted.json();
    // No block is mined meanwhile: the anchor stays `included` (1 confirmation of the 2 the keeper waits
    // for), so the keeper still follows it — a final anchor is, by definition, never revisited.
    const old = await until(
      async () => {
        const res = await http<Receipt>('GET', `/v1/evidence/${id}/receipt?format=v1`);
        const receipt = res.status === 200 ? res.json() : undefined;
        return receipt?.anchors[0]?.state === 'included' ? receipt : undefined;
      },
      'included receipt',
      60_000,
      false,
    );
    const oldFile = write('reorged-receipt.json', old);
    const before = await verify([oldFile, ...rpc()]);
    expect(before.code, before.stdout).toBe(0);

    // The keeper stops, the chain goes back to before the anchor and grows past it without it.
    expect(await stopProcess('keeper')).toBe(0);
    await node.revert(beforeAnchor);
    await node.mineBlocks(5);
    const link = `anchor:${node.chainId}:${old.anchors[0]!.txHash}`;
    const gone = await verify([oldFile, ...rpc(), '--json']);
    expect(gone.code).toBe(1);
    expect(gone.report?.failed).toEqual([link, 'anchors']);
    expect(gone.report?.links.find((l) => l.link === link)?.detail).toMatch(/transaction not found/);
    expect((await verify([oldFile])).code).toBe(0); // the log itself is intact: only the chain link broke

    // The keeper notices, re-broadcasts the same signed bytes, and follows them to final in a new block.
    startProcess('keeper');
    const fresh = await finalReceipt(id, old.anchors[0]!.blockHash!);
    expect(fresh.anchors[0]!.txHash).toBe(old.anchors[0]!.txHash);
    const freshCheck = await verify([write('re-anchored-receipt.json', fresh), ...rpc(), '--require-final']);
    expect(freshCheck.code, freshCheck.stdout).toBe(0);
    const stale = await verify([oldFile, ...rpc(), '--json']);
    expect(stale.code).toBe(1);
    expect(stale.report?.links.find((l) => l.link === link)?.detail).toMatch(/the chain reorganised/);
  });
});
