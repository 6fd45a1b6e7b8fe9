import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { getCheckpoint, getCollectorPushState, listPushableAnchors } from '@fieldproof/db';
import { createCosigner, generateDeviceKey, verifyCosignature } from '@fieldproof/note';
import { decodeAnchorPayload, verifyAnchorProof } from '@fieldproof/receipt';
import type { AnchorBranch, AnchorProof, ReceiptV2 } from '@fieldproof/receipt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  collectorDatabaseUrl,
  createTestCollector,
  devicePath,
  sendPush,
} from '../packages/collector/test/support.js';
import type { TestCollector } from '../packages/collector/test/support.js';
import type { PushedAnchor } from '../packages/collector/src/index.js';
import { createAnchoring } from '../packages/keeper/src/anchor/index.js';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { TestClock, anchorDeps, driveUntil, jobsOf } from './support/anchor-fixtures.js';
import { tempDir, testEngines } from './support/databases.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, useHardhatNode } from './support/hardhat.js';
import type { HardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { PushingUnit } from './support/pushing-unit.js';

/**
 * A unit's final anchors reach the collector (issue 15, receipts from the collector carry anchors), on a
 * real hardhat node: the unit anchors to final, pushes its anchors with their stored anchor proofs, the
 * chain is reset (the anchor becomes lost on the unit, which pushes that; the collector's receipts drop
 * it) and the checkpoint is anchored again; the unit's folder is deleted; the collector's receipt
 * (fieldproof-receipt/v2: its cosignature a step, the anchor a branch proven from its block header)
 * verifies with `fieldproof verify --witness-key <collector key>` offline — canonicality unchecked — with
 * `--rpc` against the node, and with a `--trusted-blocks` line once the node is stopped; a wrong
 * `--witness-key` fails it. The anchor proof it serves verifies offline. A tampered pushed proof is
 * refused 400 FP_BAD_ANCHOR_PROOF, nothing stored.
 */
const engine = testEngines().at(-1)!;
const CHAIN = 'local';
const fp = (args: string[], env: Record<string, string> = {}) => runNode([FIELDPROOF_BIN, ...args], env);

/** A v2 receipt's tree size (its inclusion step) and the transactions its anchor branches prove. */
const treeSizeOf = (r: ReceiptV2) =>
  (r.steps.find((s) => s.type === 'inclusion') as { treeSize: number }).treeSize;
const txOf = (b: AnchorBranch) =>
  b.steps.find((s) => s.type === 'anchor-tx') as { chainId: number; txHash: string; rawTx?: string };
const blockOf = (b: AnchorBranch) =>
  b.steps.find((s) => s.type === 'block') as { chainId: number; number: number; hash: string } | undefined;
const txHashesOf = (r: ReceiptV2) => r.anchors.map((b) => txOf(b).txHash);

const node = useHardhatNode();

describe(`anchors pushed to the collector (${engine})`, () => {
  it('a receipt from the collector alone carries the final anchor and verifies offline and against the node', async () => {
    const collector = await createTestCollector(await collectorDatabaseUrl(engine));
    try {
      await collector.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`;
      const origin = 'fieldproof.test/log/anchored-unit';
      const unit = new PushingUnit(origin, { url, pushKey: '', witnessKey: collector.cosigner.verifierKey });
      const pushKey = await collector.enroll({ origin, key: { verifierKey: unit.device.verifierKey } });
      fs.writeFileSync(path.join(unit.dir, 'collector.key'), `${pushKey}\n`, { mode: 0o600 });
      await unit.open();
      // Anchored at 10 while the collector holds nothing; then 2 more records: the unit pushes checkpoints
      // 5 and 12 (7 leaves at most per push), so the collector must take the anchored 10 from the anchor.
      const records = await unit.record(10, 'anchored'); // checkpoints of 5, 10
      const clock = new TestClock();
      const deps = anchorDeps({
        database: unit.database,
        chains: [{ name: CHAIN, rpcUrl: node.url, chainId: node.chainId, confirmations: 2 }],
        signerKey: HARDHAT_ACCOUNTS[2].privateKey,
        clock,
      });
      const anchoring = createAnchoring(deps);
      const proven = async () =>
        listPushableAnchors(unit.database.db, { afterTxId: '', maxTreeSize: 1e9, limit: 100 });
      /** Drives anchoring (mining a block a round) until every job is final or lost, each final one proven. */
      const settle = async (label: string) =>
        driveUntil(
          anchoring.tasks,
          async () => {
            await node.mine();
            const jobs = await jobsOf(unit.database, CHAIN);
            const finals = jobs.filter((j) => j.state === 'final').length;
            return (
              finals > 0 &&
              jobs.every((j) => j.state === 'final' || j.state === 'lost') &&
              (await proven()).filter((p) => p.state === 'final').length === finals
            );
          },
          { clock, label, maxRounds: 60 },
        );
      /** The unit's final anchor the collector's receipt of leaf `index` should carry (newest covering it). */
      const expectedAnchor = async (index: number) =>
        (await proven())
          .filter((p) => p.state === 'final' && p.treeSize > index)
          .sort((x, y) => y.treeSize - x.treeSize)[0];
      const receiptOf = async (id: string) => {
        const res = await collector.app.inject({
          method: 'GET',
          url: devicePath(origin, `/evidence/${id}/receipt`),
          headers: { authorization: `Bearer ${readKey}` },
        });
        expect(res.statusCode, res.body).toBe(200);
        const receipt = res.json<ReceiptV2>();
        expect(receipt.format).toBe('fieldproof-receipt/v2');
        return receipt;
      };
      const env = {
        COLLECTOR_DB_URL: collector.config.database.target.url,
        COLLECTOR_DATA_DIR: collector.config.dataDir,
      };
      const made = await fp(['keys', 'create', '--collector', '--scopes', 'read', '--json'], env);
      expect(made.code, made.stderr).toBe(0);
      const readKey = (JSON.parse(made.stdout) as { key: string }).key;

      await settle('anchored at 10');
      const [anchored] = await proven();
      expect(anchored).toMatchObject({ state: 'final', treeSize: 10 });
      records.push(...(await unit.record(2, 'later'))); // checkpoint of 12
      await unit.push();
      const heldSizes = await collector.collector.db
        .selectFrom('device_checkpoints')
        .select('tree_size')
        .orderBy('tree_size')
        .execute();
      // 10 was never a pushed checkpoint: it came with its anchor, checked against the mirrored tree, cosigned.
      expect(heldSizes.map((r) => Number(r.tree_size))).toEqual([5, 10, 12]);
      // A record after the anchored checkpoint: no anchor includes it yet, the held head is used.
      const after = await receiptOf(records[11]!.id);
      expect(after.anchors).toEqual([]);
      expect(treeSizeOf(after)).toBe(12);
      const first = await receiptOf(records[2]!.id);
      const note = (first.steps.find((s) => s.type === 'checkpoint') as { note: string }).note;
      const cosigned = first.steps.find((s) => s.type === 'cosignature') as {
        witnessKey: string;
        line: string;
      };
      expect(cosigned.witnessKey).toBe(collector.cosigner.verifierKey);
      verifyCosignature(note + cosigned.line, collector.cosigner.verifierKey);
      expect(first.anchors).toHaveLength(1);
      expect(first.anchors[0]).toMatchObject({ chain: CHAIN, state: 'final' });
      // Proven, not claimed: the raw transaction, its trie proof and the header the stored proof holds.
      expect(first.anchors[0]!.steps.map((st) => st.type)).toEqual([
        'anchor-tx',
        'tx-trie',
        'header',
        'block',
      ]);
      expect(txOf(first.anchors[0]!)).toMatchObject({
        chainId: node.chainId,
        txHash: anchored!.txHash,
        rawTx: anchored!.proof.rawTx,
      });
      expect(blockOf(first.anchors[0]!)).toMatchObject({
        hash: anchored!.proof.blockHash,
        number: anchored!.proof.blockNumber,
      });
      expect(treeSizeOf(first)).toBe(10);
      // Re-sending is idempotent: a restarted keeper sends every anchor once more; nothing changes.
      const resend = await sendPush(collector.app, origin, pushKey, await anchorPush(unit, [anchored!]));
      expect(resend.statusCode, resend.body).toBe(200);
      expect(resend.json()).toMatchObject({ treeSize: 12, appended: 0, anchorsStored: 0 });

      // The chain is reset and grows past the anchor: the unit finds it lost, pushes that, and the
      // collector's receipt no longer offers it; the checkpoint is anchored again and that one is pushed.
      await node.rpc('hardhat_reset', []);
      await node.mineBlocks(anchored!.proof.blockNumber + 2);
      await driveUntil(
        anchoring.tasks,
        async () => (await jobsOf(unit.database, CHAIN)).some((j) => j.state === 'lost'),
        { clock, label: 'lost', maxRounds: 40 },
      );
      await unit.push();
      expect(txHashesOf(await receiptOf(records[2]!.id))).not.toContain(anchored!.txHash);
      const lostProof = await collector.app.inject({
        method: 'GET',
        url: devicePath(origin, `/anchors/${anchored!.txHash}/proof`),
        headers: { authorization: `Bearer ${readKey}` },
      });
      expect(lostProof.statusCode).toBe(404);
      expect(lostProof.json<{ message: string }>().message).toContain('is lost');
      await settle('anchored again');
      const again = (await expectedAnchor(2))!;
      expect(again.txHash).not.toBe(anchored!.txHash);
      await unit.push();

      const pushable = await proven();
      const tamperBase = await anchorPush(unit, [again]);
      const verifierKey = unit.device.verifierKey;
      await anchoring.close();
      await unit.close();
      fs.rmSync(unit.dir, { recursive: true, force: true }); // the unit is gone
      expect(pushable.filter((a) => a.state === 'lost').map((a) => a.txHash)).toEqual([anchored!.txHash]);

      const receipt = await receiptOf(records[2]!.id);
      expect(txHashesOf(receipt)).toEqual([again.txHash]);
      const block = blockOf(receipt.anchors[0]!)!;
      const proofRes = await collector.app.inject({
        method: 'GET',
        url: devicePath(origin, `/anchors/${again.txHash}/proof`),
        headers: { authorization: `Bearer ${readKey}` },
      });
      expect(proofRes.statusCode, proofRes.body).toBe(200);
      const verified = verifyAnchorProof(proofRes.json<AnchorProof>());
      expect(verified.txHash).toBe(again.txHash);
      expect(verified.blockHash).toBe(block.hash);
      const payload = decodeAnchorPayload(verified.data);
      expect(payload.origin).toBe(origin);
      expect(payload.treeSize).toBe(treeSizeOf(receipt));

      const dir = tempDir('fieldproof-anchored-');
      const file = path.join(dir, 'receipt.json');
      fs.writeFileSync(file, JSON.stringify(receipt));
      const witnessKey = collector.cosigner.verifierKey;
      const offline = await fp(['verify', file, '--expect-key', verifierKey, '--witness-key', witnessKey]);
      expect(offline.code, offline.stdout + offline.stderr).toBe(0);
      expect(offline.stdout).toMatch(/^ok {8}witness:.*required witness/m);
      // The anchor is proven from its header with no node; only canonicality needs a source.
      expect(offline.stdout).toMatch(new RegExp(`^ok {8}tx-trie:${node.chainId}:${again.txHash}:`, 'm'));
      expect(offline.stdout).toMatch(
        new RegExp(
          `^ok {8}header:${node.chainId}:${again.txHash}: keccak256 of the header is ${block.hash}`,
          'm',
        ),
      );
      expect(offline.stdout).toMatch(
        new RegExp(
          `^unchecked canonical:${node.chainId}:${block.number}: whether this block is canonical needs`,
          'm',
        ),
      );
      expect(offline.stdout).toMatch(/verdict: VERIFIED/);
      const impostor = createCosigner(generateDeviceKey(collector.cosigner.name)).verifierKey;
      const wrongWitness = await fp(['verify', file, '--witness-key', impostor]);
      expect(wrongWitness.code, wrongWitness.stdout).toBe(1);
      expect(wrongWitness.stdout).toMatch(/^failed {4}witness:/m);
      const online = await fp([
        'verify',
        file,
        '--expect-key',
        verifierKey,
        '--witness-key',
        witnessKey,
        '--rpc',
        node.url,
        '--json',
      ]);
      expect(online.code, online.stdout + online.stderr).toBe(0);
      const report = JSON.parse(online.stdout) as { ok: boolean; links: { link: string; status: string }[] };
      expect(report.ok).toBe(true);
      expect(report.links.filter((l) => l.status !== 'ok').map((l) => l.link)).toEqual(['content']);
      expect(report.links).toContainEqual(
        expect.objectContaining({ link: `canonical:${node.chainId}:${block.number}`, status: 'ok' }),
      );

      // A tampered anchor proof: one byte of the raw transaction changed — refused, nothing stored.
      const good = tamperBase.anchors[0]!;
      const rawTx = good.proof.rawTx;
      const flipped = `${rawTx.slice(0, -2)}${rawTx.endsWith('00') ? '01' : '00'}`;
      const tampered = await sendPush(collector.app, origin, pushKey, {
        ...tamperBase,
        anchors: [{ ...good, proof: { ...good.proof, rawTx: flipped } }],
      });
      expect(tampered.statusCode, tampered.body).toBe(400);
      expect(tampered.json()).toMatchObject({ code: 'FP_BAD_ANCHOR_PROOF' });
      expect(tampered.json<{ message: string }>().message).toContain('tx-proof');
      const otherHeader = await sendPush(collector.app, origin, pushKey, {
        ...tamperBase,
        anchors: [{ ...good, proof: { ...good.proof, blockNumber: good.proof.blockNumber + 1 } }],
      });
      expect(otherHeader.statusCode).toBe(400);
      expect(otherHeader.json<{ message: string }>().message).toContain('block-number');
      expect(txHashesOf(await receiptOf(records[2]!.id))).toEqual([again.txHash]);

      // The chain node is gone too: one trusted block line (from sources the auditor chose) proves the rest.
      await node.stop();
      const blocks = path.join(dir, 'blocks.txt');
      fs.writeFileSync(blocks, `# chainId number hash\n${block.chainId} ${block.number} ${block.hash}\n`);
      const trusted = await fp(['verify', file, '--witness-key', witnessKey, '--trusted-blocks', blocks]);
      expect(trusted.code, trusted.stdout + trusted.stderr).toBe(0);
      expect(trusted.stdout).toMatch(
        new RegExp(
          `^ok {8}canonical:${node.chainId}:${block.number}: the trusted block list lists ${block.hash}`,
          'm',
        ),
      );
      expect(trusted.stdout).toMatch(/^ok {8}anchors: 1 of 1 anchor\(s\) verified on a canonical chain/m);
      expect(trusted.stdout).toMatch(
        /^verdict: VERIFIED — every requested check holds; unchecked: content$/m,
      );
      console.log(`[collector receipt, unit and chain node gone, --trusted-blocks]\n${trusted.stdout}`);
      fs.writeFileSync(blocks, `${block.chainId} ${block.number} 0x${'0'.repeat(64)}\n`);
      const otherBlock = await fp(['verify', file, '--witness-key', witnessKey, '--trusted-blocks', blocks]);
      expect(otherBlock.code, otherBlock.stdout).toBe(1);
      expect(otherBlock.stdout).toMatch(
        new RegExp(`^failed {4}canonical:${node.chainId}:${block.number}:`, 'm'),
      );
      // v1 on request, for older verifiers: the anchor as a claim, the cosignature in the note.
      const v1 = await collector.app.inject({
        method: 'GET',
        url: devicePath(origin, `/evidence/${records[2]!.id}/receipt?format=v1`),
        headers: { authorization: `Bearer ${readKey}` },
      });
      expect(v1.statusCode, v1.body).toBe(200);
      expect(v1.json()).toMatchObject({
        format: 'fieldproof-receipt/v1',
        checkpoint: { treeSize: treeSizeOf(receipt) },
        anchors: [{ txHash: again.txHash, blockHash: block.hash, state: 'final' }],
      });
      verifyCosignature(v1.json<{ checkpoint: { note: string } }>().checkpoint.note, witnessKey);
    } finally {
      await collector.close();
    }
  }, 240_000);

  describe('collectors that took an anchor already, or refuse anchors', () => {
    // Its own node: the test above stops the file's.
    let chain: HardhatNode;
    beforeAll(async () => {
      chain = await startHardhatNode();
    });
    afterAll(async () => {
      await chain?.stop();
    });

    /**
     * A unit pushing to `collector` whose every push is recorded as the collector answered it (tree size,
     * anchors sent, status, code), with 10 records anchored final at 10 on the node and not yet pushed.
     */
    async function anchoredUnit(collector: TestCollector, origin: string, signer: number) {
      await collector.app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`;
      const pushes: { treeSize: number; anchors: number; status: number; code?: string }[] = [];
      const watching: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && (input as string).endsWith('/push')) {
          const body = JSON.parse(gunzipSync(init.body as Buffer).toString('utf8')) as {
            checkpoint: string;
            anchors?: unknown[];
          };
          const answer = (await response.clone().json()) as { code?: string };
          pushes.push({
            treeSize: Number(body.checkpoint.split('\n')[1]),
            anchors: body.anchors?.length ?? 0,
            status: response.status,
            ...(answer.code === undefined ? {} : { code: answer.code }),
          });
        }
        return response;
      };
      const unit = new PushingUnit(
        origin,
        { url, pushKey: '', witnessKey: collector.cosigner.verifierKey },
        { fetch: watching },
      );
      const pushKey = await collector.enroll({ origin, key: { verifierKey: unit.device.verifierKey } });
      fs.writeFileSync(path.join(unit.dir, 'collector.key'), `${pushKey}\n`, { mode: 0o600 });
      await unit.open();
      await unit.record(10, 'anchored'); // checkpoints of 5, 10
      const clock = new TestClock();
      const anchoring = createAnchoring(
        anchorDeps({
          database: unit.database,
          chains: [{ name: CHAIN, rpcUrl: chain.url, chainId: chain.chainId, confirmations: 2 }],
          signerKey: HARDHAT_ACCOUNTS[signer]!.privateKey,
          clock,
        }),
      );
      await driveUntil(
        anchoring.tasks,
        async () => {
          await chain.mine();
          const proven = await listPushableAnchors(unit.database.db, {
            afterTxId: '',
            maxTreeSize: 1e9,
            limit: 10,
          });
          return proven.some((a) => a.state === 'final');
        },
        { clock, label: 'anchored at 10', maxRounds: 60 },
      );
      await anchoring.close();
      const head = async () =>
        (
          await collector.app.inject({
            method: 'GET',
            url: devicePath(origin),
            headers: { authorization: `Bearer ${pushKey}` },
          })
        ).json<{ treeSize: number }>();
      return { unit, pushes, head };
    }

    it('a keeper restart sends the collector no anchor it already took', async () => {
      const collector = await createTestCollector(await collectorDatabaseUrl(engine));
      try {
        const { unit, pushes } = await anchoredUnit(collector, 'fieldproof.test/log/restarted-unit', 3);
        await unit.push(); // the leaves to 10, then the anchor
        expect(pushes).toEqual([
          { treeSize: 5, anchors: 0, status: 200 },
          { treeSize: 10, anchors: 0, status: 200 },
          { treeSize: 10, anchors: 1, status: 200 },
        ]);
        await unit.close();
        await unit.open(); // the keeper restarts: a new push outbox
        await unit.push();
        await unit.record(2, 'later'); // checkpoint of 12
        await unit.push();
        expect(pushes.slice(3)).toEqual([{ treeSize: 12, anchors: 0, status: 200 }]);
        await unit.close();
      } finally {
        await collector.close();
      }
    }, 240_000);

    it('an older collector refuses push protocol 2: the unit stops sending it anchors, never leaves', async () => {
      // A real collector with the push body schema from before anchors (closed: `anchors` is refused 400).
      const collector = await createTestCollector(await collectorDatabaseUrl(engine), { pushProtocol: 1 });
      try {
        const origin = 'fieldproof.test/log/unit-meets-older-collector';
        const { unit, pushes, head } = await anchoredUnit(collector, origin, 3);
        await unit.push(); // the leaves to 10, then the anchor: refused
        await unit.record(2, 'later'); // checkpoint of 12
        await unit.push(); // the leaves to 12, and no anchor again
        await unit.push();
        expect(pushes).toEqual([
          { treeSize: 5, anchors: 0, status: 200 },
          { treeSize: 10, anchors: 0, status: 200 },
          { treeSize: 10, anchors: 1, status: 400, code: 'FP_VALIDATION' },
          { treeSize: 12, anchors: 0, status: 200 },
        ]);
        expect(await head()).toMatchObject({ treeSize: 12 });
        // Refused anchors are no failure of the push outbox: it did not stop, and shows no error.
        const state = await getCollectorPushState(unit.database.db, 'fleet');
        expect(state).toMatchObject({ ackedTreeSize: 12, attempts: 0 });
        expect(state?.lastError).toBeUndefined();
        await unit.close();
      } finally {
        await collector.close();
      }
    }, 240_000);
  });
});

/** The body of an anchors-only push as the keeper sends it: the held checkpoint, no leaves, the anchors. */
async function anchorPush(
  unit: PushingUnit,
  anchors: Awaited<ReturnType<typeof listPushableAnchors>>,
): Promise<{ checkpoint: string; leaves: []; anchors: PushedAnchor[] }> {
  const db = unit.database.db;
  const head = await getCheckpoint(db, 12);
  const out: PushedAnchor[] = [];
  for (const a of anchors) {
    const anchoredCheckpoint = await getCheckpoint(db, a.treeSize);
    out.push({
      chain: a.chain,
      treeSize: a.treeSize,
      checkpoint: anchoredCheckpoint!.signed_note,
      txHash: a.txHash,
      state: a.state,
      proof: { ...a.proof, txProof: [...a.proof.txProof] },
    });
  }
  return { checkpoint: head!.signed_note, leaves: [], anchors: out };
}
