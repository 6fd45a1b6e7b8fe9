import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listChainFinalizedBlocks } from '@fieldproof/db';
import { openDeviceIdentity } from '@fieldproof/keeper';
import { validateReceiptV2, verifyReceiptV2Offline, type ReceiptV2 } from '@fieldproof/receipt';
import { createTestApi, randomDigest, type ApiJson, type TestApi } from './support/api.js';
import { TestClock, anchorDeps, driveToFinal } from './support/anchor-fixtures.js';
import { tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, type HardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { createAnchoring, type Anchoring } from '../packages/keeper/src/anchor/index.js';
import { createSequencer } from '../packages/keeper/src/sequencer/sequencer.js';

/**
 * The whole time bracket end to end (issue 14, "Done when"): on a real hardhat node the keeper records
 * the newest finalized block, records written after that carry it in their fieldproof-leaf/v2 leaf, they
 * go final, and the built CLI prints VERIFIED with every link ok and the bracket — "after block N,
 * no later than block M, width W" and occurredAt inside or outside by how much — with --rpc while the
 * node runs and with --trusted-blocks after it stopped; --json carries both ends. A receipt whose
 * evidence notBefore is altered fails the leaf link: the leaf hash covers it.
 */
const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));
const CHAIN = 'local';
const HOUR = 3_600_000;

let node: HardhatNode;
let api: TestApi | undefined;
let anchoring: Anchoring | undefined;
beforeAll(async () => {
  node = await startHardhatNode();
});
afterAll(async () => {
  await anchoring?.close();
  await api?.close();
  await node?.stop();
});

interface JsonReport {
  ok: boolean;
  links: { link: string; status: string; detail: string }[];
  bracket: {
    notBefore?: { chainId: number; number: number; hash: string; timestamp: number };
    notAfter: { chainId: number; number: number; hash: string; timestamp: number };
    canonical: boolean;
    widthMs?: number;
    occurredAt: number;
    occurredOutsideByMs: number;
  };
}

describe('the time bracket end to end (sqlite, real hardhat node, built CLI)', () => {
  it('a record written after a finalized block verifies with both ends, --rpc and --trusted-blocks', async () => {
    const dir = tempDir('fieldproof-bracket-e2e-');
    const apiClock = new TestClock(Date.now() + HOUR); // never behind the chain: not clockSuspect
    api = await createTestApi('sqlite', { API_MAX_EVENT_LOOP_DELAY_MS: '0' }, { now: apiClock.now });
    const { app, auth, database } = api;
    const clock = new TestClock();
    const deps = anchorDeps({
      database,
      chains: [{ name: CHAIN, rpcUrl: node.url, chainId: node.chainId, confirmations: 2 }],
      signerKey: HARDHAT_ACCOUNTS[2].privateKey,
      clock,
      env: { FIELDPROOF_DATA_DIR: tempDir('fieldproof-bracket-keeper-') },
    });
    const sequencer = createSequencer(deps, await openDeviceIdentity(deps));
    anchoring = createAnchoring(deps);
    const tasks = [sequencer, ...anchoring.tasks];
    const photo = path.join(dir, 'photo.jpg');
    fs.writeFileSync(photo, `a photo taken at ${Date.now()}`);
    const photoDigest = createHash('sha256').update(fs.readFileSync(photo)).digest('hex');
    const post = async (occurredAt: number, digest = randomDigest()) => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/evidence',
        headers: auth.write,
        payload: { digest, kind: 'photo', occurredAt },
      });
      expect(res.statusCode).toBe(201);
      return res.json<ApiJson>();
    };
    const anchorToFinal = (count: number) =>
      driveToFinal(tasks, database, { chain: CHAIN, count, clock, mine: () => node.mineBlocks(1) });

    // The keeper reaches the chain: one record anchored to final, the newest finalized block recorded.
    await post(apiClock.value);
    await anchorToFinal(1);
    const [finalized] = await listChainFinalizedBlocks(database.db);
    expect(finalized).toBeDefined();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200); // api picks it up
    const after = {
      chainId: node.chainId,
      number: finalized!.number,
      hash: finalized!.hash,
      timestamp: finalized!.timestamp,
    };

    // Two records written after that block: one claims a time inside, one 90 s before the block.
    const inside = await post(after.timestamp + 1, photoDigest);
    const before = await post(after.timestamp - 90_000);
    for (const r of [inside, before])
      expect(r).toMatchObject({ leafFormat: 'fieldproof-leaf/v2', notBefore: after });
    await anchorToFinal(2);

    const receiptOf = async (id: unknown): Promise<ReceiptV2> => {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/evidence/${String(id)}/receipt`,
        headers: auth.read,
      });
      expect(res.statusCode, res.body).toBe(200);
      return validateReceiptV2(JSON.parse(res.body));
    };
    const files = new Map<string, string>();
    const receipts = new Map<string, ReceiptV2>();
    for (const [name, r] of [
      ['inside', inside],
      ['before', before],
    ] as const) {
      const receipt = await receiptOf(r.id);
      receipts.set(name, receipt);
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify(receipt, null, 2));
      files.set(name, file);
    }
    const block = receipts.get('inside')!.anchors[0]!.steps.find((s) => s.type === 'block') as unknown as {
      chainId: number;
      number: number;
      hash: string;
    };
    expect(block.number).toBeGreaterThan(after.number);
    const header = await node.rpc<{ hash: string; timestamp: string }>('eth_getBlockByNumber', [
      `0x${block.number.toString(16)}`,
      false,
    ]);
    expect(header.hash).toBe(block.hash);
    const notAfter = {
      chainId: node.chainId,
      number: block.number,
      hash: block.hash,
      timestamp: Number(header.timestamp) * 1000,
    };
    const verify = (args: string[]) =>
      runNode(
        [BIN, 'verify', ...args, ...(args[0] === files.get('inside') ? ['--content', photo] : [])],
        {},
        { cwd: dir, timeoutMs: 60_000 },
      );
    const iso = (ms: number) => new Date(ms).toISOString();
    const ends =
      `after block ${after.number} of chain ${node.chainId} \\(${iso(after.timestamp)}\\), ` +
      `no later than block ${notAfter.number} of chain ${node.chainId} \\(${iso(notAfter.timestamp)}\\), width `;
    const checkText = (stdout: string) => {
      expect(stdout.split('\n').filter((l) => /^(failed|unchecked)/.test(l))).toEqual([]);
      expect(stdout).toMatch(/^ok {8}content: /m);
      expect(stdout).toMatch(/^ok {8}leaf: /m);
      expect(stdout).toMatch(new RegExp(`^ok {8}canonical:${node.chainId}:${notAfter.number}: `, 'm'));
      expect(stdout).toMatch(
        new RegExp(`^time: {5}${ends}.+; occurredAt ${iso(after.timestamp + 1)} inside$`, 'm'),
      );
      expect(stdout).toMatch(/^verdict: VERIFIED — every requested check holds$/m);
    };
    const checkJson = (stdout: string, occurredAt: number, outsideBy: number, unchecked: string[] = []) => {
      const report = JSON.parse(stdout) as JsonReport;
      expect(report.ok).toBe(true);
      expect(report.links.filter((l) => l.status !== 'ok').map((l) => l.link)).toEqual(unchecked);
      expect(report.bracket).toEqual({
        notBefore: after,
        notAfter,
        canonical: true,
        widthMs: notAfter.timestamp - after.timestamp,
        occurredAt,
        occurredOutsideByMs: outsideBy,
      });
    };

    // --rpc while the node runs.
    const online = await verify([files.get('inside')!, '--rpc', node.url]);
    expect(online.code, online.stdout + online.stderr).toBe(0);
    checkText(online.stdout);
    console.log(`[bracket e2e: verify --rpc]\n${online.stdout}`);
    const onlineJson = await verify([files.get('inside')!, '--rpc', node.url, '--json']);
    expect(onlineJson.code, onlineJson.stderr).toBe(0);
    checkJson(onlineJson.stdout, after.timestamp + 1, 0);

    // The node stopped: --trusted-blocks.
    await anchoring.close();
    anchoring = undefined;
    await node.stop();
    fs.writeFileSync(path.join(dir, 'blocks.txt'), `${node.chainId} ${notAfter.number} ${notAfter.hash}\n`);
    const offline = await verify([files.get('inside')!, '--trusted-blocks', 'blocks.txt']);
    expect(offline.code, offline.stdout + offline.stderr).toBe(0);
    checkText(offline.stdout);
    console.log(`[bracket e2e: verify --trusted-blocks, node stopped]\n${offline.stdout}`);
    const offlineJson = await verify([files.get('inside')!, '--trusted-blocks', 'blocks.txt', '--json']);
    expect(offlineJson.code, offlineJson.stderr).toBe(0);
    checkJson(offlineJson.stdout, after.timestamp + 1, 0);
    console.log(
      `[bracket e2e: --json bracket]\n${JSON.stringify((JSON.parse(offlineJson.stdout) as JsonReport).bracket, null, 2)}`,
    );

    // occurredAt 90 s before the not-before block: still VERIFIED (the device's claim is not a link), and
    // the time line says by how much it is outside.
    const early = await verify([files.get('before')!, '--trusted-blocks', 'blocks.txt']);
    expect(early.code, early.stdout + early.stderr).toBe(0);
    expect(early.stdout).toMatch(
      new RegExp(
        `^time: {5}${ends}.+; occurredAt ${iso(after.timestamp - 90_000)} OUTSIDE: 90 s before the not-before block$`,
        'm',
      ),
    );
    console.log(`[bracket e2e: occurredAt before the bracket]\n${early.stdout}`);
    const earlyJson = await verify([files.get('before')!, '--trusted-blocks', 'blocks.txt', '--json']);
    checkJson(earlyJson.stdout, after.timestamp - 90_000, -90_000, ['content']); // no content file given

    // The leaf hash covers notBefore: any field of it altered fails the leaf link.
    const original = receipts.get('inside')!;
    const evidence = original.evidence as unknown as { notBefore: typeof after };
    for (const altered of [
      { ...after, number: after.number - 1 },
      { ...after, timestamp: after.timestamp - 1000 },
      { ...after, hash: `0x${'11'.repeat(32)}` },
      { ...after, chainId: 1 },
    ]) {
      const forged = { ...original, evidence: { ...evidence, notBefore: altered } } as unknown as ReceiptV2;
      const v = verifyReceiptV2Offline(forged);
      expect(v.ok).toBe(false);
      expect(v.links.find((l) => l.link === 'leaf')?.status).toBe('failed');
    }
    const forgedFile = path.join(dir, 'forged.json');
    fs.writeFileSync(
      forgedFile,
      JSON.stringify({
        ...original,
        evidence: { ...evidence, notBefore: { ...after, number: after.number - 1 } },
      }),
    );
    const forged = await verify([forgedFile, '--trusted-blocks', 'blocks.txt']);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/^failed {4}leaf: /m);
    expect(forged.stdout).toMatch(/^verdict: FAILED — broken: leaf/m);
    console.log(`[bracket e2e: notBefore altered]\n${forged.stdout}`);
  }, 300_000);
});
