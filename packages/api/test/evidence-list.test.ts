import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@fieldproof/db';
import type { AnchorJobState, Database } from '@fieldproof/db';
import { createTestApi, randomDigest } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { testEngines } from '../../../test/support/databases.js';

const hex = (n: number) => n.toString(16).padStart(64, '0');

/** What the keeper would have written: leaves for `ids` in order, and a checkpoint per tree size. */
async function sequence(
  database: Database,
  ids: readonly string[],
  treeSizes: readonly number[],
): Promise<void> {
  await database.db
    .insertInto('log_leaves')
    .values(ids.map((id, i) => ({ leaf_index: i, evidence_id: id, leaf_hash: hex(i + 1), sequenced_at: 1 })))
    .execute();
  await database.db
    .insertInto('log_checkpoints')
    .values(
      treeSizes.map((s) => ({
        tree_size: s,
        root_hash: hex(1000 + s),
        origin: 'test/log',
        signed_note: 'n',
        created_at: 1,
      })),
    )
    .execute();
}

/** An anchor job (and, unless pending, its transaction) as the keeper writes them. */
async function anchor(
  database: Database,
  a: { chain: string; chainId: number; treeSize: number; state: AnchorJobState; block?: number },
): Promise<void> {
  const jobId = newId();
  await database.db
    .insertInto('anchor_jobs')
    .values({
      id: jobId,
      chain: a.chain,
      chain_id: a.chainId,
      tree_size: a.treeSize,
      state: a.state,
      attempts: 1,
      next_attempt_at: 0,
      lease_owner: null,
      lease_expires_at: null,
      lease_token: 0,
      last_error: null,
      created_at: 1,
      updated_at: 1,
    })
    .execute();
  if (a.state === 'pending') return;
  for (const state of ['replaced', a.state === 'dead' ? 'failed' : a.state] as const) {
    const inBlock = a.block !== undefined && state !== 'replaced';
    await database.db
      .insertInto('anchor_txs')
      .values({
        id: newId(),
        job_id: jobId,
        chain: a.chain,
        chain_id: a.chainId,
        from_address: `0x${'11'.repeat(20)}`,
        nonce: 0,
        tx_hash: `0x${randomDigest()}`,
        raw_tx: '0x00',
        max_fee_per_gas: '1',
        max_priority_fee_per_gas: '1',
        state,
        block_number: inBlock ? a.block! : null,
        block_hash: inBlock ? `0x${'bb'.repeat(32)}` : null,
        block_timestamp: inBlock ? 1_700_000_000_000 : null,
        gas_used: null,
        effective_gas_price: null,
        created_at: state === 'replaced' ? 1 : 2,
        updated_at: 1,
      })
      .execute();
  }
}

describe.each(testEngines())('GET /v1/evidence lists (%s)', (engine) => {
  let t: TestApi;
  let clock = 1_000;
  const ids: string[] = [];
  const post = (payload: object) =>
    t.app.inject({ method: 'POST', url: '/v1/evidence', headers: t.auth.write, payload });
  const list = async (query: string) => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/evidence?${query}`, headers: t.auth.read });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<ApiJson>();
  };
  async function all(query: string): Promise<ApiJson[]> {
    const items: ApiJson[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  }

  beforeAll(async () => {
    // A pinned clock: receivedAt repeats (ties), so only the id can keep pages apart.
    t = await createTestApi(engine, {}, { now: () => clock });
    for (let i = 0; i < 12; i++) {
      clock = 1_000 + Math.floor(i / 4); // 4 records per millisecond
      const res = await post({
        digest: randomDigest(),
        kind: i % 3 === 0 ? 'photo' : 'audio',
        occurredAt: 100 - i,
      });
      ids.push(res.json<ApiJson>().id);
    }
  });
  afterAll(async () => t.close());

  it('pages through every record once, in (receivedAt, id) order, despite ties', async () => {
    const items = await all('limit=5');
    expect(items.map((i) => i.id)).toEqual(ids);
    const desc = await all('limit=5&order=desc');
    expect(desc.map((i) => i.id)).toEqual([...ids].reverse());
    const byOccurred = await all('limit=5&sort=occurredAt');
    expect(byOccurred.map((i) => i.occurredAt)).toEqual(
      [...byOccurred.map((i) => i.occurredAt as number)].sort((a, b) => a - b),
    );
    expect(new Set(byOccurred.map((i) => i.id)).size).toBe(12);
  });

  it('stays stable while records are inserted between pages (no duplicates, no skips)', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let inserted = 0;
    do {
      const page = await list(`limit=3&receivedTo=2000${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      // A new record in the same millisecond as the cursor's row, and one later.
      clock = 1_002;
      await post({ digest: randomDigest(), kind: 'late', occurredAt: 1 });
      inserted++;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    // Records inserted after the cursor's position are picked up, in order, exactly once.
    expect(seen.slice(0, 12)).toEqual(ids);
    expect(seen.length).toBeGreaterThan(12);
    expect(seen.length).toBeLessThanOrEqual(12 + inserted);
  });

  it('filters by kind and by time ranges on receivedAt and occurredAt', async () => {
    const photos = await all('limit=2&kind=photo');
    expect(photos.map((i) => i.id)).toEqual([ids[0], ids[3], ids[6], ids[9]]);
    const window = await all('receivedFrom=1001&receivedTo=1002');
    expect(window.map((i) => i.id)).toEqual(ids.slice(4, 8));
    const occurred = await all('occurredFrom=90&occurredTo=95&sort=occurredAt');
    expect(occurred.map((i) => i.occurredAt)).toEqual([90, 91, 92, 93, 94]);
  });

  it('shows log position and anchoring per chain, and filters by status', async () => {
    // Leaves 0..9 sequenced; checkpoints at 4, 8 and 10.
    await sequence(t.database, ids.slice(0, 10), [4, 8, 10]);
    await anchor(t.database, { chain: 'sepolia', chainId: 11155111, treeSize: 4, state: 'final', block: 50 });
    await anchor(t.database, {
      chain: 'sepolia',
      chainId: 11155111,
      treeSize: 8,
      state: 'confirmed',
      block: 70,
    });
    await anchor(t.database, { chain: 'sepolia', chainId: 11155111, treeSize: 10, state: 'broadcast' });
    await anchor(t.database, { chain: 'polygon', chainId: 137, treeSize: 8, state: 'included', block: 900 });
    await anchor(t.database, { chain: 'polygon', chainId: 137, treeSize: 10, state: 'dead' });
    await anchor(t.database, { chain: 'stub', chainId: 0, treeSize: 10, state: 'confirmed' });

    const leaf2 = (
      await t.app.inject({ method: 'GET', url: `/v1/evidence/${ids[2]}`, headers: t.auth.read })
    ).json<ApiJson>();
    expect(leaf2).toMatchObject({ leafIndex: 2, status: 'final' });
    expect(leaf2.anchors).toEqual([
      {
        chain: 'polygon',
        chainId: 137,
        state: 'included',
        treeSize: 8,
        txHash: expect.any(String) as string,
        blockNumber: 900,
        blockHash: `0x${'bb'.repeat(32)}`,
        blockTimestamp: 1_700_000_000_000,
      },
      {
        chain: 'sepolia',
        chainId: 11155111,
        state: 'final',
        treeSize: 4,
        txHash: expect.any(String) as string,
        blockNumber: 50,
        blockHash: `0x${'bb'.repeat(32)}`,
        blockTimestamp: 1_700_000_000_000,
      },
      {
        chain: 'stub',
        chainId: 0,
        state: 'confirmed',
        treeSize: 10,
        txHash: expect.any(String) as string,
        blockNumber: null,
        blockHash: null,
        blockTimestamp: null,
      },
    ]);
    const leaf5 = (
      await t.app.inject({ method: 'GET', url: `/v1/evidence/${ids[5]}`, headers: t.auth.read })
    ).json<ApiJson>();
    expect(leaf5).toMatchObject({ leafIndex: 5, status: 'confirmed' });
    const leaf9 = (
      await t.app.inject({ method: 'GET', url: `/v1/evidence/${ids[9]}`, headers: t.auth.read })
    ).json<ApiJson>();
    // Only a broadcast real anchor and a stub one: sequenced, never "anchored" by a stub.
    expect(leaf9).toMatchObject({ leafIndex: 9, status: 'sequenced' });
    expect((leaf9.anchors as ApiJson[]).map((a) => [a.chain, a.state])).toEqual([
      ['polygon', 'dead'],
      ['sepolia', 'broadcast'],
      ['stub', 'confirmed'],
    ]);
    const leaf10 = (
      await t.app.inject({ method: 'GET', url: `/v1/evidence/${ids[10]}`, headers: t.auth.read })
    ).json<ApiJson>();
    expect(leaf10).toMatchObject({ leafIndex: null, status: 'pending', anchors: [] });

    // (the 'late' records of the stability test are pending too; look at the first twelve only)
    const statusOf = async (status: string) =>
      (await all(`status=${status}`)).map((i) => i.id).filter((id) => ids.includes(id));
    expect(await statusOf('final')).toEqual(ids.slice(0, 4));
    expect(await statusOf('confirmed')).toEqual(ids.slice(4, 8));
    expect(await statusOf('anchored')).toEqual([]);
    expect(await statusOf('sequenced')).toEqual(ids.slice(8, 10));
    expect(await statusOf('pending')).toEqual(ids.slice(10, 12));
    const listed = (await all('limit=7')).filter((i) => ids.includes(i.id));
    expect(listed.map((i) => i.status)).toEqual([
      ...Array<string>(4).fill('final'),
      ...Array<string>(4).fill('confirmed'),
      'sequenced',
      'sequenced',
      'pending',
      'pending',
    ]);
    expect(listed.map((i) => i.leafIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, null, null]);
  });

  const bad = [
    { name: 'cursor that is not base64url JSON', query: 'cursor=AAAA', code: 'FP_INVALID_CURSOR' },
    {
      name: 'cursor for another sort',
      query: `sort=occurredAt&cursor=${Buffer.from(JSON.stringify(['evidence:receivedAt:asc', 1, '01a1fff6-ff7b-7424-b0d7-69df5f9c8323'])).toString('base64url')}`,
      code: 'FP_INVALID_CURSOR',
    },
    {
      name: 'cursor with a non-integer key',
      query: `cursor=${Buffer.from(JSON.stringify(['evidence:receivedAt:asc', 1.5, '01a1fff6-ff7b-7424-b0d7-69df5f9c8323'])).toString('base64url')}`,
      code: 'FP_INVALID_CURSOR',
    },
    {
      name: 'cursor with a bad id',
      query: `cursor=${Buffer.from(JSON.stringify(['evidence:receivedAt:asc', 1, "x' OR 1=1"])).toString('base64url')}`,
      code: 'FP_INVALID_CURSOR',
    },
    { name: 'cursor too long', query: `cursor=${'A'.repeat(600)}`, code: 'FP_VALIDATION' },
    { name: 'empty cursor', query: 'cursor=', code: 'FP_VALIDATION' },
    { name: 'unknown status', query: 'status=lost', code: 'FP_VALIDATION' },
    { name: 'unknown sort', query: 'sort=digest', code: 'FP_VALIDATION' },
    { name: 'negative limit', query: 'limit=-1', code: 'FP_VALIDATION' },
    { name: 'limit over the max', query: 'limit=1000', code: 'FP_VALIDATION' },
    { name: 'fractional time', query: 'receivedFrom=1.5', code: 'FP_VALIDATION' },
    { name: 'time in hex', query: 'receivedFrom=0x10', code: 'FP_VALIDATION' },
    { name: 'reversed range', query: 'occurredFrom=10&occurredTo=5', code: 'FP_INVALID_RANGE' },
    { name: 'unknown parameter', query: 'offset=10', code: 'FP_VALIDATION' },
  ];
  it.each(bad)('$name → 400 $code', async (c) => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/evidence?${c.query}`, headers: t.auth.read });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json<ApiJson>().code).toBe(c.code);
  });

  it('answers 400 for a malformed id or URL, 414 for an overlong one, 404 for an unknown one', async () => {
    for (const [url, status, code] of [
      ['/v1/evidence/nope', 400, 'FP_VALIDATION'],
      ['/v1/evidence/01A1FFF6-FF7B-7424-B0D7-69DF5F9C8323', 400, 'FP_VALIDATION'],
      ['/v1/evidence/01a1fff6-ff7b-7424-b0d7-69df5f9c8323', 404, 'FP_NOT_FOUND'],
      ['/v1/evidence/01a1fff6-ff7b-7424-b0d7-69df5f9c8323/content', 404, 'FP_NOT_FOUND'],
      [`/v1/evidence/${ids[0]}/content`, 404, 'FP_CONTENT_NOT_STORED'],
      [`/v1/evidence/${ids[0]}?verbose=1`, 400, 'FP_VALIDATION'],
      [`/v1/evidence/${'a'.repeat(200)}`, 414, 'FP_URI_TOO_LONG'],
      ['/v1/evidence/%', 400, 'FP_BAD_REQUEST'],
    ] as const) {
      const res = await t.app.inject({ method: 'GET', url, headers: t.auth.read });
      expect(res.statusCode, url).toBe(status);
      expect(res.json<ApiJson>().code).toBe(code);
    }
  });
});
