import { afterAll, describe, expect, it } from 'vitest';
import { listChainFinalizedBlocks } from '@fieldproof/db';
import { openDeviceIdentity } from '@fieldproof/keeper';
import { parseReceipt, recordTimeClaimsOf, verifyReceiptOffline } from '@fieldproof/receipt';
import { createTestApi, randomDigest, type ApiJson, type TestApi } from './support/api.js';
import { TestClock, anchorDeps, driveToFinal } from './support/anchor-fixtures.js';
import { tempDir, testEngines } from './support/databases.js';
import { HARDHAT_ACCOUNTS, useHardhatNode } from './support/hardhat.js';
import { createAnchoring, type Anchoring } from '../packages/keeper/src/anchor/index.js';
import { createSequencer } from '../packages/keeper/src/sequencer/sequencer.js';

/**
 * The time bracket on a real hardhat node, on each engine (issue 14, "A time bracket for every record"):
 * a record accepted before the keeper reached the chain says it has no "not before" block; the keeper
 * anchors it and records the newest finalized block; the next record carries that block (the chain's
 * own hash and time) in its fieldproof-leaf/v2 leaf; once each record's anchor is final, its evidence
 * read shows the bracket — not before the leaf's block, no later than the anchoring block's header time
 * — and its receipt verifies with the block in its evidence.
 */
const SIGNER = HARDHAT_ACCOUNTS[2];
const CHAIN = 'local';
const HOUR = 3_600_000;

const node = useHardhatNode();

describe.each(testEngines())('%s', (engine) => {
  let api: TestApi | undefined;
  let anchoring: Anchoring | undefined;
  afterAll(async () => {
    await anchoring?.close();
    await api?.close();
  });

  it('puts the newest finalized block into the next record and shows the bracket once final', async () => {
    await node.rpc('hardhat_reset', []);
    // The api's clock runs an hour ahead of the chain (and of the keeper's): never suspect here.
    const apiClock = new TestClock(Date.now() + HOUR);
    api = await createTestApi(engine, { API_MAX_EVENT_LOOP_DELAY_MS: '0' }, { now: apiClock.now });
    const { app, auth, database } = api;
    const clock = new TestClock();
    const deps = anchorDeps({
      database,
      chains: [{ name: CHAIN, rpcUrl: node.url, chainId: node.chainId, confirmations: 2 }],
      signerKey: SIGNER.privateKey,
      clock,
      env: { FIELDPROOF_DATA_DIR: tempDir('fieldproof-bracket-') },
    });
    const sequencer = createSequencer(deps, await openDeviceIdentity(deps));
    anchoring = createAnchoring(deps);
    const tasks = [sequencer, ...anchoring.tasks];

    const post = async (occurredAt: number) => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/evidence',
        headers: auth.write,
        payload: { digest: randomDigest(), kind: 'photo', occurredAt },
      });
      expect(res.statusCode).toBe(201);
      return res.json<ApiJson>();
    };
    const read = async (id: unknown) =>
      (
        await app.inject({ method: 'GET', url: `/v1/evidence/${String(id)}`, headers: auth.read })
      ).json<ApiJson>();
    const anchorToFinal = (count: number) =>
      driveToFinal(tasks, database, { chain: CHAIN, count, clock, mine: () => node.mineBlocks(1) });
    const chainBlock = async (number: number) => {
      const b = await node.rpc<{ hash: string; timestamp: string }>('eth_getBlockByNumber', [
        `0x${number.toString(16)}`,
        false,
      ]);
      return { hash: b.hash, timestamp: Number(b.timestamp) * 1000 };
    };

    // 1. Before the keeper reached any chain: a v2 record that says it has no block.
    const first = await post(apiClock.value);
    expect(first).toMatchObject({
      leafFormat: 'fieldproof-leaf/v2',
      notBefore: null,
      clockSuspect: false,
      bracket: null,
    });
    await anchorToFinal(1);

    // The keeper recorded the newest finalized block; the api picks it up (here through /readyz,
    // otherwise within NOT_BEFORE_REFRESH_MS) and the next record carries it.
    const [finalized] = await listChainFinalizedBlocks(database.db);
    expect(finalized).toBeDefined();
    expect(await chainBlock(finalized!.number)).toEqual({
      hash: finalized!.hash,
      timestamp: finalized!.timestamp,
    });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const block = {
      chainId: node.chainId,
      number: finalized!.number,
      hash: finalized!.hash,
      timestamp: finalized!.timestamp,
    };
    const second = await post(finalized!.timestamp + 1);
    expect(second).toMatchObject({ leafFormat: 'fieldproof-leaf/v2', notBefore: block, clockSuspect: false });
    expect((await read(second.id)).bracket).toBeNull(); // not final yet

    // 2. The first record is final: no lower end, the upper end from the anchor proof's header; its
    //    occurredAt (the api clock, an hour ahead) is outside the bracket by that much.
    const firstView = await read(first.id);
    expect(firstView.status).toBe('final');
    const firstAnchor = (firstView.anchors as { blockNumber: number; blockHash: string }[])[0]!;
    const firstBlock = await chainBlock(firstAnchor.blockNumber);
    expect(firstView.bracket).toEqual({
      notBefore: null,
      notAfter: { chainId: node.chainId, number: firstAnchor.blockNumber, ...firstBlock, source: 'header' },
      widthMs: null,
      occurredAtOffsetMs: (first.occurredAt as number) - firstBlock.timestamp,
    });
    expect((firstView.bracket as { occurredAtOffsetMs: number }).occurredAtOffsetMs).toBeGreaterThan(
      HOUR / 2,
    );

    // 3. The second record is final: the bracket runs from the leaf's block to the anchoring block.
    await anchorToFinal(2);
    const secondView = await read(second.id);
    expect(secondView.status).toBe('final');
    const secondAnchor = (secondView.anchors as { blockNumber: number }[])[0]!;
    const secondBlock = await chainBlock(secondAnchor.blockNumber);
    expect(secondAnchor.blockNumber).toBeGreaterThan(block.number);
    expect(secondView.bracket).toEqual({
      notBefore: block,
      notAfter: { chainId: node.chainId, number: secondAnchor.blockNumber, ...secondBlock, source: 'header' },
      widthMs: secondBlock.timestamp - block.timestamp,
      occurredAtOffsetMs:
        secondBlock.timestamp >= block.timestamp + 1 ? 0 : block.timestamp + 1 - secondBlock.timestamp,
    });

    // Its receipt carries the block in its evidence, verifies, and the verifier's extractor reads it.
    const res = await app.inject({
      method: 'GET',
      url: `/v1/evidence/${String(second.id)}/receipt?format=v1`,
      headers: auth.read,
    });
    expect(res.statusCode).toBe(200);
    const receipt = parseReceipt(res.body);
    expect(verifyReceiptOffline(receipt).ok).toBe(true);
    expect(recordTimeClaimsOf(receipt.evidence)).toEqual({
      leafFormat: 'fieldproof-leaf/v2',
      notBefore: block,
      clockSuspect: false,
    });
  });
});
