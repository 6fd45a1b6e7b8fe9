import { afterAll, describe, expect, it } from 'vitest';
import { createKeeper } from '@fieldproof/keeper';
import type { Keeper } from '@fieldproof/keeper';
import { LOG_META, createDatabase, initLogMeta } from '@fieldproof/db';
import { decodeAnchorPayload } from '@fieldproof/receipt';
import { createTestApi, randomDigest, type TestApi } from './support/api.js';
import {
  CapturedLogs,
  TestClock,
  anchorDeps,
  driveToFinal,
  driveUntil,
  jobsOf,
  txsOf,
  waitFor,
} from './support/anchor-fixtures.js';
import { targetOf, testEngines } from './support/databases.js';
import { closedAfterTest } from './support/lifetime.js';
import { HARDHAT_ACCOUNTS, useHardhatNode } from './support/hardhat.js';
import { createAnchoring } from '../packages/keeper/src/anchor/index.js';
import { testDevice } from '../packages/keeper/test/support.js';

/**
 * A final anchor the chain no longer has (issue 11, item 2). On a real hardhat node two checkpoints are
 * anchored to `final`; then the chain is reset (`hardhat_reset`: a testnet reset, or any reorg deeper
 * than the chain's finality) and grows past the anchors' blocks. The keeper must notice on its next
 * confirmation poll, mark both anchors `lost`, count and log it, fail `/readyz` with the reason, anchor
 * the checkpoint again (one new transaction covers both), and be ready once that one is final. All the
 * while the api's evidence read and the receipt must agree and never show a lost anchor.
 */
const SIGNER = HARDHAT_ACCOUNTS[3];
const CHAIN = 'local';

const node = useHardhatNode();

interface EvidenceAnchor {
  chain: string;
  state: string;
  treeSize: number;
  txHash: string | null;
}
interface EvidenceView {
  id: string;
  leafIndex: number | null;
  status: string;
  anchors: EvidenceAnchor[];
}
interface ReceiptView {
  checkpoint: { treeSize: number };
  anchors: { chain: string; txHash: string; state: string; blockHash: string | null }[];
}

describe.each(testEngines())('%s', (engine) => {
  let api: TestApi | undefined;
  let keeper: Keeper | undefined;
  afterAll(async () => {
    await keeper?.stop();
    await api?.close();
  });

  it('a final anchor whose chain was reset is lost, counted, logged, fails /readyz, and is anchored again; evidence and receipt agree', async () => {
    await node.rpc('hardhat_reset', []);
    api = await createTestApi(engine, { API_MAX_EVENT_LOOP_DELAY_MS: '0' }); // not a load-shedding test
    const { app, auth } = api;
    // The keeper's own connection(s) to the api's database, as two processes have.
    const database = closedAfterTest(createDatabase(targetOf(api.database.target.url)));
    const device = testDevice();
    await initLogMeta(database.db, LOG_META.origin, device.origin, Date.now());
    await initLogMeta(database.db, LOG_META.verifierKey, device.verifierKey, Date.now());
    const clock = new TestClock();
    const logs = new CapturedLogs('info');
    const deps = anchorDeps({
      database,
      chains: [{ name: CHAIN, rpcUrl: node.url, chainId: node.chainId, confirmations: 2 }],
      signerKey: SIGNER.privateKey,
      clock,
      logs,
      env: { KEEPER_HTTP_PORT: '0' },
    });
    const anchoring = createAnchoring(deps);
    // The keeper's own sequencer, health server and metrics; the anchoring tasks are driven by hand.
    keeper = createKeeper({
      ...deps,
      device,
      anchoring: { tasks: [], readiness: () => anchoring.readiness(), close: () => anchoring.close() },
    });
    await keeper.start();
    const keeperUrl = `http://127.0.0.1:${keeper.address!.port}`;
    const readyz = async () => {
      const res = await fetch(`${keeperUrl}/readyz`);
      return { status: res.status, text: await res.text() };
    };
    const lostMetric = async () =>
      /^fieldproof_anchor_lost_total\{chain="local"\} (\d+)$/m.exec(
        await (await fetch(`${keeperUrl}/metrics`)).text(),
      )?.[1];

    const record = async (): Promise<string> => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/evidence',
        headers: auth.write,
        payload: { digest: randomDigest(), kind: 'detection', occurredAt: 1_700_000_000_000 },
      });
      expect(res.statusCode, res.body).toBe(201);
      const { id } = res.json<{ id: string }>();
      await waitFor(async () => (await evidence(id)).leafIndex !== null, 15_000, 'sequenced');
      return id;
    };
    const evidence = async (id: string) =>
      (
        await app.inject({ method: 'GET', url: `/v1/evidence/${id}`, headers: auth.read })
      ).json<EvidenceView>();
    const receipt = async (id: string) => {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/evidence/${id}/receipt?format=v1`,
        headers: auth.read,
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<ReceiptView>();
    };
    const jobStates = async () => (await jobsOf(database, CHAIN)).map((j) => [j.tree_size, j.state]);
    const anchorToFinal = (count: number) =>
      driveToFinal(anchoring.tasks, database, { chain: CHAIN, count, clock, mine: () => node.mineBlocks(1) });

    // Two checkpoints, each anchored to final (one leaf each).
    const first = await record();
    await anchorToFinal(1);
    const second = await record();
    await anchorToFinal(2);
    const [tx1, tx2] = await txsOf(database, CHAIN);
    expect([tx1?.state, tx2?.state]).toEqual(['final', 'final']);
    expect((await evidence(first)).status).toBe('final');
    expect((await receipt(second)).anchors.map((a) => a.txHash)).toEqual([tx2!.tx_hash]);
    expect((await readyz()).status).toBe(200);
    const lostHashes = [tx1!.tx_hash, tx2!.tx_hash];

    // The chain is reset: the anchors' transactions and blocks are gone.
    await node.rpc('hardhat_reset', []);
    expect(await node.blockNumber()).toBe(0);

    // A node below the anchors' heights cannot tell lagging from reset: nothing is declared lost yet.
    clock.advance(deps.config.keeper.confirmPollMs);
    for (const t of anchoring.tasks) await t.runOnce();
    expect(await jobStates()).toEqual([
      [1, 'final'],
      [2, 'final'],
    ]);
    expect(logs.text).toContain('the node has not reached the block of a final anchor');

    // The new chain grows past them: other blocks at those heights. One confirmation poll notices the
    // newest; the sweep that a loss starts finds the older one.
    await node.mineBlocks(tx2!.block_number! + 2);
    await driveUntil(
      anchoring.tasks,
      async () => (await jobsOf(database, CHAIN)).filter((j) => j.state === 'lost').length === 2,
      { clock, label: 'both lost', maxRounds: 20 },
    );
    const afterLoss = await jobsOf(database, CHAIN);
    // Both lost; one new job anchors the larger checkpoint again (it covers the smaller one too).
    expect(afterLoss.map((j) => [j.tree_size, j.state === 'lost' ? 'lost' : 'live'])).toEqual([
      [1, 'lost'],
      [2, 'lost'],
      [2, 'live'],
    ]);
    expect(
      afterLoss.filter((j) => j.state === 'lost').every((j) => j.last_error?.includes('lost after final')),
    ).toBe(true);
    const txStates = new Map((await txsOf(database, CHAIN)).map((t) => [t.tx_hash, t.state]));
    expect(lostHashes.map((h) => txStates.get(h))).toEqual(['lost', 'lost']);
    expect(await lostMetric()).toBe('2');
    const errors = logs
      .entries()
      .filter((e) => e.level === 50 && String(e.msg).startsWith('final anchor lost'));
    expect(errors.map((e) => e.txHash).sort()).toEqual([...lostHashes].sort());
    expect(errors.find((e) => e.txHash === tx2!.tx_hash)?.msg).toMatch(/re-anchoring the checkpoint$/);
    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.text).toContain(
      'local: final anchor lost (tree size 2, transaction ' + tx2!.tx_hash + ' no longer in the chain)',
    );

    // Meanwhile no read shows a lost anchor as final, and record and receipt agree.
    for (const id of [first, second]) {
      const view = await evidence(id);
      expect(view.status).not.toBe('final');
      const onChain = view.anchors.find((a) => a.chain === CHAIN)!;
      expect(onChain.state).not.toBe('final');
      expect(lostHashes).not.toContain(onChain.txHash);
      const r = await receipt(id);
      expect(r.anchors.map((a) => a.txHash).filter((h) => lostHashes.includes(h))).toEqual([]);
      expect(r.anchors.map((a) => a.txHash)).toEqual(onChain.txHash === null ? [] : [onChain.txHash]);
    }
    const anchorsPage = await app.inject({ method: 'GET', url: '/v1/anchors', headers: auth.read });
    expect(
      anchorsPage
        .json<{ items: { state: string; txState: string | null; txHash: string | null }[] }>()
        .items.filter((i) => i.state === 'lost')
        .map((i) => [i.txState, i.txHash]),
    ).toEqual(lostHashes.map((h) => ['lost', h]));

    // The new anchor goes through the normal path (the old nonce is refused on the reset chain, the
    // nonce re-syncs) to final; then the keeper is ready again.
    await driveUntil(
      anchoring.tasks,
      async () => (await jobsOf(database, CHAIN)).some((j) => j.state === 'included'),
      { clock, label: 're-anchor included', maxRounds: 50 },
    );
    await node.mineBlocks(1);
    await driveUntil(
      anchoring.tasks,
      async () =>
        (await jobsOf(database, CHAIN)).filter((j) => j.state === 'final').length === 1 &&
        anchoring.readiness().ok,
      { clock, label: 're-anchor final and ready' },
    );
    expect((await readyz()).status).toBe(200);
    expect(await lostMetric()).toBe('2');
    const anchor = (await txsOf(database, CHAIN)).find((t) => t.state === 'final')!;
    expect(lostHashes).not.toContain(anchor.tx_hash);
    const onChain = await node.transactionsFrom(SIGNER.address, 0);
    expect(onChain.map((t) => t.hash)).toEqual([anchor.tx_hash]);
    expect(decodeAnchorPayload(onChain[0]!.input).treeSize).toBe(2);

    for (const id of [first, second]) {
      const view = await evidence(id);
      expect(view.status).toBe('final');
      expect(view.anchors).toMatchObject([
        { chain: CHAIN, state: 'final', treeSize: 2, txHash: anchor.tx_hash },
      ]);
      const r = await receipt(id);
      expect(r.checkpoint.treeSize).toBe(2);
      expect(r.anchors).toMatchObject([
        { chain: CHAIN, txHash: anchor.tx_hash, state: 'final', blockHash: anchor.block_hash },
      ]);
    }
    await keeper.stop();
    keeper = undefined;
  });
});
