import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listChainFinalizedBlocks } from '@fieldproof/db';
import type { AnchorJobRow } from '@fieldproof/db';
import { decodeAnchorPayload, verifyAnchorProof, type AnchorProof } from '@fieldproof/receipt';
import { createTestApi, type TestApi } from './support/api.js';
import {
  CapturedLogs,
  TestClock,
  anchorDeps,
  appendCheckpoint,
  driveToFinal,
  driveUntil,
  jobsOf,
  txsOf,
} from './support/anchor-fixtures.js';
import { testEngines } from './support/databases.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, type HardhatNode } from './support/hardhat.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { createAnchoring, type Anchoring } from '../packages/keeper/src/anchor/index.js';

/**
 * Anchor proofs stored at finality (issue 14, first step), on a real hardhat node behind a TCP proxy the
 * test can cut, on each engine:
 * 1. an anchor reaches final: its proof is stored in the same step, `GET /v1/anchors/:id/proof` returns
 *    it, `verifyAnchorProof` accepts it, and its block hash is the chain's; the newest finalized block is
 *    recorded and shown in readiness;
 * 2. the node is unreachable right when an anchor is found final: the anchor is final all the same, the
 *    proof is missing (404, a failure counted), and a later poll builds it;
 * 3. the chain is reset: both anchors become lost, their proofs are no longer served (kept as history),
 *    and the re-anchored checkpoint gets a proof of its own;
 * 4. the anchor moves to another block between being judged final and its proof: no proof of the old
 *    block is stored, the reorg is counted, and the anchor goes final in the new block with its proof.
 */
const SIGNER = HARDHAT_ACCOUNTS[3];
const CHAIN = 'local';

let node: HardhatNode;
let proxy: TcpProxy;

beforeAll(async () => {
  node = await startHardhatNode();
  proxy = await startTcpProxy({ port: node.port });
});
afterAll(async () => {
  await proxy?.close();
  await node?.stop();
});

describe.each(testEngines())('%s', (engine) => {
  let api: TestApi | undefined;
  let anchoring: Anchoring | undefined;
  afterAll(async () => {
    await anchoring?.close();
    await api?.close();
  });

  it('stores a verifiable proof at finality, builds a missing one on a later poll, and stops serving a lost one', async () => {
    await node.rpc('hardhat_reset', []);
    proxy.resume();
    api = await createTestApi(engine, { API_MAX_EVENT_LOOP_DELAY_MS: '0' });
    const { app, auth, database } = api;
    const clock = new TestClock();
    const logs = new CapturedLogs('info');
    let cutAtProof = false;
    /** Set: at `before-proof`, the chain re-mines the anchor one block later (a reorg), once. */
    let moveAtProof: { snapshot: string } | undefined;
    let movedFrom: string | null = null;
    const deps = anchorDeps({
      database,
      chains: [{ name: CHAIN, rpcUrl: proxy.url, chainId: node.chainId, confirmations: 2 }],
      signerKey: SIGNER.privateKey,
      clock,
      logs,
    });
    anchoring = createAnchoring(deps, {
      async atPoint(point) {
        if (point === 'before-proof' && cutAtProof) {
          cutAtProof = false;
          proxy.pause('refuse');
        }
        if (point === 'before-proof' && moveAtProof !== undefined) {
          const { snapshot } = moveAtProof;
          moveAtProof = undefined;
          const pending = (await txsOf(database, CHAIN)).find(
            (t) => t.state === 'included' || t.state === 'confirmed',
          )!;
          movedFrom = pending.block_hash;
          await node.revert(snapshot);
          await node.mineBlocks(1);
          await node.rpc('eth_sendRawTransaction', [pending.raw_tx]); // mined at once, one block later
          await node.mineBlocks(2);
        }
      },
    });
    const tasks = anchoring.tasks;

    const proofOf = async (jobId: string) => {
      const res = await app.inject({ method: 'GET', url: `/v1/anchors/${jobId}/proof`, headers: auth.read });
      return { status: res.statusCode, body: res.json<AnchorProof & { message?: string }>() };
    };
    const failures = async () =>
      Number(
        /^fieldproof_anchor_proof_failures_total\{chain="local"\} (\d+)$/m.exec(
          await deps.registry.metrics(),
        )?.[1] ?? 0,
      );
    const finalJobs = async () => (await jobsOf(database, CHAIN)).filter((j) => j.state === 'final');
    const anchorToFinal = (count: number) =>
      driveToFinal(tasks, database, { chain: CHAIN, count, clock, mine: () => node.mineBlocks(1) });
    /** The proof the route serves for `job`: verified offline, and its block is the chain's. */
    const expectServedProof = async (job: AnchorJobRow) => {
      const { status, body } = await proofOf(job.id);
      expect(status, JSON.stringify(body)).toBe(200);
      const verified = verifyAnchorProof(body);
      const tx = (await txsOf(database, CHAIN)).find((t) => t.job_id === job.id && t.state === 'final')!;
      expect(verified.txHash).toBe(tx.tx_hash);
      expect(body.rawTx).toBe(tx.raw_tx);
      expect(verified.blockHash).toBe(tx.block_hash);
      expect(verified.chainId).toBe(node.chainId);
      const onChain = await node.rpc<{ hash: string; timestamp: string }>('eth_getBlockByNumber', [
        `0x${verified.blockNumber.toString(16)}`,
        false,
      ]);
      expect(verified.blockHash).toBe(onChain.hash);
      expect(verified.blockTimestamp).toBe(Number(onChain.timestamp) * 1000);
      expect(decodeAnchorPayload(verified.data).treeSize).toBe(job.tree_size);
      return body;
    };

    // 1. Final with its proof, stored in the step that recorded it final.
    await appendCheckpoint(database, 1);
    await anchorToFinal(1);
    const [first] = await finalJobs();
    await expectServedProof(first!);
    expect(await failures()).toBe(0);
    expect(await proofOf('00000000-0000-7000-8000-000000000000')).toMatchObject({
      status: 404,
      body: { code: 'FP_NOT_FOUND' },
    });
    // The newest finalized block: recorded, canonical, and shown in readiness.
    const [finalized] = await listChainFinalizedBlocks(database.db);
    expect(finalized).toMatchObject({ chain: CHAIN, chainId: node.chainId });
    const canonical = await node.rpc<{ hash: string }>('eth_getBlockByNumber', [
      `0x${finalized!.number.toString(16)}`,
      false,
    ]);
    expect(finalized!.hash).toBe(canonical.hash);
    expect(anchoring.readiness().detail).toContain(`finalized block ${finalized!.number} ${finalized!.hash}`);

    // 2. The node stops answering just as the next anchor is found final.
    await appendCheckpoint(database, 1);
    cutAtProof = true;
    await anchorToFinal(2);
    const second = (await finalJobs()).find((j) => j.tree_size === 2)!;
    expect(proxy.mode).toBe('refuse');
    const missing = await proofOf(second.id);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain('final but its proof is not built yet');
    expect(await failures()).toBe(1);
    expect(logs.text).toContain('anchor proof not built: the node did not answer');
    proxy.resume();
    await driveUntil(tasks, async () => (await proofOf(second.id)).status === 200, {
      clock,
      label: 'proof built later',
    });
    await expectServedProof(second);
    expect(logs.text).toContain('anchor proof stored (after an earlier attempt failed)');

    // 3. The chain is reset and grows past both anchors: both lost, neither proof served any more.
    await node.rpc('hardhat_reset', []);
    const lastBlock = Math.max(...(await txsOf(database, CHAIN)).map((t) => t.block_number ?? 0));
    await node.mineBlocks(lastBlock + 2);
    await driveUntil(
      tasks,
      async () => (await jobsOf(database, CHAIN)).filter((j) => j.state === 'lost').length === 2,
      { clock, label: 'both lost', maxRounds: 30 },
    );
    for (const job of [first!, second]) {
      const res = await proofOf(job.id);
      expect(res.status).toBe(404);
      expect(res.body.message).toContain('is lost');
    }
    // Kept as history: the rows describe the blocks the chain showed then.
    const kept = await database.db.selectFrom('anchor_proofs').select('tx_hash').execute();
    expect(kept).toHaveLength(2);

    // The checkpoint anchored again has its own proof.
    await driveUntil(tasks, async () => (await jobsOf(database, CHAIN)).some((j) => j.state === 'included'), {
      clock,
      label: 're-anchor included',
      maxRounds: 50,
    });
    await node.mineBlocks(1);
    await driveUntil(tasks, async () => (await finalJobs()).length === 1, {
      clock,
      label: 're-anchor final',
    });
    const [again] = await finalJobs();
    await expectServedProof(again!);

    // 4. Between "final" and the proof, the anchor moves to another block: no proof of the old block is
    //    stored; the reorg path finds it in the new block, and that block's proof is stored.
    const reorgs = async () =>
      Number(
        /^fieldproof_anchor_reorgs_total\{chain="local"\} (\d+)$/m.exec(await deps.registry.metrics())?.[1] ??
          0,
      );
    const reorgsBefore = await reorgs();
    await appendCheckpoint(database, 1);
    moveAtProof = { snapshot: await node.snapshot() };
    await anchorToFinal(2);
    expect(moveAtProof).toBeUndefined();
    expect(await reorgs()).toBe(reorgsBefore + 1);
    const third = (await finalJobs()).find((j) => j.tree_size === 3)!;
    const moved = (await txsOf(database, CHAIN)).filter((t) => t.job_id === third.id);
    expect(moved.map((t) => t.state)).toEqual(['final']);
    const served = await expectServedProof(third);
    expect(served.blockHash).toBe(moved[0]!.block_hash);
    expect(movedFrom).not.toBeNull();
    expect(served.blockHash).not.toBe(movedFrom);
    expect(
      await database.db
        .selectFrom('anchor_proofs')
        .select('block_hash')
        .where('block_hash', '=', movedFrom!)
        .execute(),
    ).toEqual([]);
  });
});
