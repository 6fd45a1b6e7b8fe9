import { toHex, verifyConsistency, fromHex } from '@fieldproof/merkle';
import { verifyReceiptOffline, verifyReceiptV2Offline } from '@fieldproof/receipt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from './support/api.js';
import { testEngines } from './support/databases.js';
import { addAnchor, createLogFixture, type LogFixture } from './support/log-fixture.js';

const NOW = 1_750_001_000_000;
const SEPOLIA = { chain: 'sepolia', chainId: 11155111 };

describe.each(testEngines())('proof routes (%s)', (engine) => {
  let t: TestApi;
  let log: LogFixture;
  let emptyApi: TestApi;

  beforeAll(async () => {
    t = await createTestApi(engine, {}, { now: () => NOW });
    emptyApi = await createTestApi(engine);
    log = await createLogFixture(t.database.db);
    for (const count of [2, 3, 6]) await log.appendBatch(count); // checkpoints 2, 5, 11
    await addAnchor(
      t.database.db,
      {
        ...SEPOLIA,
        treeSize: 5,
        jobState: 'final',
        txs: [
          { state: 'final', block: { number: 7, hash: `0x${'07'.repeat(32)}`, timestamp: NOW - 60_000 } },
        ],
      },
      NOW - 100_000,
    );
    await addAnchor(
      t.database.db,
      { ...SEPOLIA, treeSize: 11, jobState: 'broadcast', txs: [{ state: 'broadcast' }] },
      NOW - 30_000,
    );
    await addAnchor(
      t.database.db,
      {
        chain: 'polygon',
        chainId: 137,
        treeSize: 2,
        jobState: 'dead',
        txs: [],
        lastError: 'insufficient funds',
      },
      NOW - 90_000,
    );
    await addAnchor(
      t.database.db,
      { chain: 'polygon', chainId: 137, treeSize: 11, jobState: 'pending', txs: [] },
      NOW - 20_000,
    );
  });
  afterAll(async () => {
    await t?.close();
    await emptyApi?.close();
  });

  const get = (url: string, api: TestApi = t, headers: Record<string, string> = api.auth.read) =>
    api.app.inject({ method: 'GET', url, headers });

  it('GET /v1/evidence/:id/receipt serves a receipt that verifies offline', async () => {
    const record = log.records[3]!;
    const res = await get(`/v1/evidence/${record.id}/receipt?format=v1`);
    expect(res.statusCode).toBe(200);
    const receipt = res.json<Record<string, unknown>>();
    const result = verifyReceiptOffline(receipt, {
      content: record.content,
      expectedPublicKey: log.key.verifierKey,
    });
    expect(result.links.filter((l) => l.status !== 'ok').map((l) => l.link)).toEqual([
      `anchor:11155111:${(receipt as { anchors: { txHash: string }[] }).anchors[0]!.txHash}`,
    ]);
    expect(receipt).toMatchObject({
      checkpoint: { treeSize: 5 },
      anchors: [{ chain: 'sepolia', state: 'final', blockNumber: 7 }],
    });
    // The newest leaves are only in the unanchored latest checkpoint; the broadcast anchor rides along.
    const late = (await get(`/v1/evidence/${log.records[9]!.id}/receipt?format=v1`)).json<{
      checkpoint: { treeSize: number };
      anchors: { state: string }[];
    }>();
    expect(late.checkpoint.treeSize).toBe(11);
    expect(late.anchors.map((a) => a.state)).toEqual(['broadcast']);
  });

  it.each([
    {
      name: 'unknown evidence',
      url: '/v1/evidence/01930000-0000-7000-8000-000000000000/receipt',
      status: 404,
      code: 'FP_NOT_FOUND',
    },
    { name: 'malformed id', url: '/v1/evidence/nope/receipt', status: 400, code: 'FP_VALIDATION' },
    {
      name: 'consistency from > to',
      url: '/v1/log/consistency?from=5&to=2',
      status: 400,
      code: 'FP_INVALID_RANGE',
    },
    {
      name: 'consistency of a size never checkpointed',
      url: '/v1/log/consistency?from=3&to=11',
      status: 404,
      code: 'FP_CHECKPOINT_NOT_FOUND',
    },
    {
      name: 'consistency beyond the log',
      url: '/v1/log/consistency?from=2&to=12',
      status: 404,
      code: 'FP_CHECKPOINT_NOT_FOUND',
    },
    { name: 'consistency without to', url: '/v1/log/consistency?from=2', status: 400, code: 'FP_VALIDATION' },
    {
      name: 'consistency with a negative size',
      url: '/v1/log/consistency?from=-1&to=2',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'consistency with a non-number',
      url: '/v1/log/consistency?from=1e3&to=2',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'consistency with an unknown field',
      url: '/v1/log/consistency?from=2&to=5&x=1',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'anchors with an unknown state',
      url: '/v1/anchors?state=vanished',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'anchors with a foreign cursor',
      url: '/v1/anchors?cursor=WyJldmlkZW5jZTpyZWNlaXZlZEF0OmFzYyIsMSwiMDE5MzAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAwIl0',
      status: 400,
      code: 'FP_INVALID_CURSOR',
    },
    { name: 'outbox with a bad limit', url: '/v1/outbox?deadLimit=0', status: 400, code: 'FP_VALIDATION' },
    {
      name: 'checkpoint with a query',
      url: '/v1/log/checkpoint?treeSize=3',
      status: 400,
      code: 'FP_VALIDATION',
    },
    {
      name: 'receipt with a query',
      url: '/v1/evidence/01930000-0000-7000-8000-000000000000/receipt?leaf=1',
      status: 400,
      code: 'FP_VALIDATION',
    },
  ])('$name → $status $code', async ({ url, status, code }) => {
    const res = await get(url);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ statusCode: status, code });
  });

  it('GET /v1/evidence/:id/receipt serves fieldproof-receipt/v2 by default, checked by the v2 verifier', async () => {
    const record = log.records[3]!;
    const res = await get(`/v1/evidence/${record.id}/receipt`);
    expect(res.statusCode, res.body).toBe(200);
    const receipt = res.json<{
      format: string;
      steps: { type: string }[];
      anchors: { steps: { type: string }[] }[];
    }>();
    expect(receipt.format).toBe('fieldproof-receipt/v2');
    expect(receipt.steps.map((s) => s.type)).toEqual(['leaf', 'inclusion', 'checkpoint']);
    // The fixture's anchor has no stored proof: a claim (anchor-tx and block), checked on RPC only.
    expect(receipt.anchors[0]!.steps.map((s) => s.type)).toEqual(['anchor-tx', 'block']);
    const result = verifyReceiptV2Offline(receipt, {
      content: record.content,
      expectedPublicKey: log.key.verifierKey,
    });
    expect(
      result.links.filter((l) => l.status !== 'ok').map((l) => `${l.status} ${l.link.split(':')[0]}`),
    ).toEqual(['unchecked anchor-tx']);
    expect((await get(`/v1/evidence/${record.id}/receipt?format=v3`)).statusCode).toBe(400);
  });

  it('answers 404 FP_NOT_SEQUENCED for evidence the keeper has not sequenced', async () => {
    const [queued] = await log.recordUnsequenced(1);
    const res = await get(`/v1/evidence/${queued!.id}/receipt`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'FP_NOT_SEQUENCED' });
  });

  it('every route needs the read scope', async () => {
    for (const url of [
      '/v1/log/checkpoint',
      '/v1/anchors',
      '/v1/outbox',
      '/v1/log/consistency?from=2&to=5',
      `/v1/evidence/${log.records[0]!.id}/receipt`,
    ]) {
      expect((await get(url, t, {})).statusCode, url).toBe(401);
      expect((await get(url, t, t.auth.write)).json(), url).toMatchObject({
        statusCode: 403,
        code: 'FP_FORBIDDEN',
      });
    }
  });

  it('GET /v1/log/checkpoint serves the latest signed checkpoint with its key', async () => {
    const res = await get('/v1/log/checkpoint');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      note: expect.stringMatching(/^fieldproof\.test\/unit-9\n11\n/) as string,
      origin: 'fieldproof.test/unit-9',
      treeSize: 11,
      root: toHex(log.tree.root(11)),
      createdAt: expect.any(Number) as number,
      verifierKey: log.key.verifierKey,
    });
    expect((await get('/v1/log/checkpoint', emptyApi)).json()).toMatchObject({
      statusCode: 404,
      code: 'FP_CHECKPOINT_NOT_FOUND',
    });
  });

  it('GET /v1/log/consistency proves each checkpoint extends the older ones', async () => {
    for (const [from, to] of [
      [2, 5],
      [2, 11],
      [5, 11],
      [11, 11],
    ] as const) {
      const res = await get(`/v1/log/consistency?from=${from}&to=${to}`);
      expect(res.statusCode).toBe(200);
      const body = res.json<{ from: number; to: number; proof: string[] }>();
      expect(body).toEqual({ from, to, proof: log.tree.consistencyProof(from, to).map(toHex) });
      expect(() =>
        verifyConsistency(from, to, body.proof.map(fromHex), log.tree.root(from), log.tree.root(to)),
      ).not.toThrow();
    }
  });

  it('GET /v1/anchors pages through anchors by tree size, filterable by chain and state', async () => {
    const first = await get('/v1/anchors?limit=3');
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{
      items: {
        chain: string;
        treeSize: number;
        state: string;
        txHash: string | null;
        lastError: string | null;
      }[];
      nextCursor: string | null;
    }>();
    expect(page1.items.map((a) => [a.treeSize, a.chain, a.state])).toEqual([
      [2, 'polygon', 'dead'],
      [5, 'sepolia', 'final'],
      [11, expect.any(String), expect.any(String)],
    ]);
    expect(page1.items[0]!.lastError).toBe('insufficient funds');
    expect(page1.items[1]!.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    const page2 = (await get(`/v1/anchors?limit=3&cursor=${page1.nextCursor}`)).json<typeof page1>();
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    expect(new Set([...page1.items, ...page2.items].map((a) => `${a.treeSize}/${a.chain}`)).size).toBe(4);

    const sepolia = (await get('/v1/anchors?chain=sepolia&order=desc')).json<typeof page1>();
    expect(sepolia.items.map((a) => [a.treeSize, a.state])).toEqual([
      [11, 'broadcast'],
      [5, 'final'],
    ]);
    const dead = (await get('/v1/anchors?state=dead')).json<typeof page1>();
    expect(dead.items.map((a) => a.chain)).toEqual(['polygon']);
    expect((await get(`/v1/anchors?limit=3&order=desc&cursor=${page1.nextCursor}`)).json()).toMatchObject({
      code: 'FP_INVALID_CURSOR',
    });
  });

  it('GET /v1/outbox reports the backlog by state, the oldest pending age and dead-lettered jobs', async () => {
    const res = await get('/v1/outbox');
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      chains: { chain: string; byState: Record<string, number>; oldestPending: unknown }[];
    }>();
    expect(body).toMatchObject({
      now: NOW,
      sequenceBacklog: 1,
      dead: {
        total: 1,
        jobs: [{ chain: 'polygon', treeSize: 2, lastError: 'insufficient funds', attempts: 0 }],
      },
    });
    expect(body.chains.map((c) => c.chain)).toEqual(['polygon', 'sepolia']);
    expect(body.chains[0]).toMatchObject({
      byState: { dead: 1, pending: 1, final: 0 },
      oldestPending: { treeSize: 11, createdAt: NOW - 20_000, ageMs: 20_000 },
    });
    expect(body.chains[1]).toMatchObject({
      byState: { final: 1, broadcast: 1, dead: 0 },
      oldestPending: { treeSize: 11, ageMs: 30_000 },
    });
    expect((await get('/v1/outbox', emptyApi)).json()).toMatchObject({
      sequenceBacklog: 0,
      chains: [],
      dead: { total: 0, jobs: [] },
    });
  });

  it('publishes the routes in the OpenAPI document', async () => {
    const doc = (await get('/docs/json')).json<{ paths: Record<string, unknown> }>();
    for (const path of [
      '/v1/evidence/{id}/receipt',
      '/v1/log/checkpoint',
      '/v1/log/consistency',
      '/v1/anchors',
      '/v1/outbox',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});
