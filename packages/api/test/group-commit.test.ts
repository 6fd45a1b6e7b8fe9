import { afterAll, describe, expect, it } from 'vitest';
import { GroupCommitter } from '@fieldproof/api';
import type { WriteOp } from '@fieldproof/api';
import { appendEvidence, newId } from '@fieldproof/db';
import type { NewEvidence } from '@fieldproof/db';
import { createTestApi, randomDigest } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { createTestDatabase, dropTestDatabases, testEngines } from '../../../test/support/databases.js';

afterAll(dropTestDatabases);

/** `name` value of a Prometheus sample line (no labels). */
function sample(metrics: string, name: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

async function countEvidence(t: TestApi): Promise<number> {
  const row = await t.database.db
    .selectFrom('evidence')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(testEngines())('group commit (%s)', (engine) => {
  it('commits concurrent writes in shared transactions (batch size > 1) and answers each after its commit', async () => {
    const t = await createTestApi(engine);
    const n = 64;
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/evidence',
          headers: t.auth.write,
          payload: { digest: randomDigest(), kind: 'burst', occurredAt: i },
        }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array<number>(n).fill(201));
    expect(await countEvidence(t)).toBe(n);
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics', headers: t.auth.read })).body;
    const batches = sample(metrics, 'fieldproof_api_group_commit_batch_size_count');
    expect(sample(metrics, 'fieldproof_api_group_commit_batch_size_sum')).toBe(n);
    expect(batches).toBeLessThan(n); // at least one batch held several writes
    expect(sample(metrics, 'fieldproof_api_sequence_backlog')).toBe(n);
    expect(sample(metrics, 'fieldproof_api_pending_writes')).toBe(0);
    expect(metrics).toContain('fieldproof_api_evidence_intake_total{source="digest"} 64');
    await t.close();
  });

  it('isolates failures inside one batch: conflicts, in-batch duplicates and bad references fail alone', async () => {
    const t = await createTestApi(engine);
    const post = (url: string, payload: object) =>
      t.app.inject({ method: 'POST', url, headers: t.auth.write, payload });
    const existing = randomDigest();
    const replayed = randomDigest();
    expect((await post('/v1/evidence', { digest: existing, kind: 'a', occurredAt: 1 })).statusCode).toBe(201);
    expect((await post('/v1/evidence', { digest: replayed, kind: 'a', occurredAt: 1 })).statusCode).toBe(201);
    const twice = randomDigest();
    const batch = [
      post('/v1/evidence', { digest: randomDigest(), kind: 'new', occurredAt: 1 }),
      post('/v1/evidence', { digest: existing, kind: 'different', occurredAt: 1 }),
      post('/v1/evidence', { digest: replayed, kind: 'a', occurredAt: 1 }),
      post('/v1/evidence', { digest: twice, kind: 'first', occurredAt: 1 }),
      post('/v1/evidence', { digest: twice, kind: 'second', occurredAt: 1 }),
      post('/v1/countermeasures', {
        operationId: 'x',
        countermeasureType: 't',
        deployedAt: 1,
        relatedEvidenceId: '01a1fff6-ff7b-7424-b0d7-69df5f9c8323',
      }),
      post('/v1/countermeasures', { operationId: 'y', countermeasureType: 't', deployedAt: 1 }),
      post('/v1/evidence', { payload: { n: 1 }, kind: 'new', occurredAt: 1 }),
    ];
    const results = await Promise.all(batch);
    expect(
      results.map((r) => [r.statusCode, r.statusCode < 300 ? undefined : r.json<ApiJson>().code]),
    ).toEqual([
      [201, undefined],
      [409, 'FP_EVIDENCE_CONFLICT'],
      [200, undefined],
      [201, undefined],
      [409, 'FP_EVIDENCE_CONFLICT'],
      [422, 'FP_UNKNOWN_REFERENCE'],
      [201, undefined],
      [201, undefined],
    ]);
    // 2 before + 3 new evidence + 1 countermeasure entry.
    expect(await countEvidence(t)).toBe(6);
    const queue = await t.database.db.selectFrom('sequence_queue').select('evidence_id').execute();
    expect(queue).toHaveLength(6);
    await t.close();
  });
});

describe.each(testEngines())('GroupCommitter (%s)', (engine) => {
  const row = (): NewEvidence => ({
    id: newId(),
    digest: randomDigest(),
    kind: 'unit',
    source: 'digest',
    occurred_at: 1,
    received_at: 2,
    payload_mime: null,
    payload_size: null,
    payload_json: null,
    metadata: null,
    content_stored: 0,
  });
  const appendOp = (r: NewEvidence): WriteOp<string> => ({
    append: { row: r, result: r.id },
    apply: async (trx) => {
      await appendEvidence(trx, [r]);
      return r.id;
    },
    recover: async (_trx, err) => {
      throw err;
    },
  });

  it('sheds load with FP_OVERLOADED past maxPending, and refuses writes once closed', async () => {
    const database = await createTestDatabase(engine);
    const batches: number[] = [];
    const committer = new GroupCommitter(database, {
      maxBatch: 100,
      maxPending: 3,
      onBatch: (s) => batches.push(s),
    });
    const accepted = [
      committer.submit(appendOp(row())),
      committer.submit(appendOp(row())),
      committer.submit(appendOp(row())),
    ];
    expect(() => committer.submit(appendOp(row()))).toThrow(
      expect.objectContaining({ code: 'FP_OVERLOADED', statusCode: 503 }),
    );
    await Promise.all(accepted);
    expect(batches).toEqual([3]);
    expect(committer.pending).toBe(0);
    await committer.close();
    expect(() => committer.submit(appendOp(row()))).toThrow(
      expect.objectContaining({ code: 'FP_UNAVAILABLE' }),
    );
    await database.close();
  });

  it('splits the queue into batches of at most maxBatch, and close() waits for all of them', async () => {
    const database = await createTestDatabase(engine);
    const batches: number[] = [];
    const committer = new GroupCommitter(database, {
      maxBatch: 4,
      maxPending: 100,
      onBatch: (s) => batches.push(s),
    });
    const all = Array.from({ length: 10 }, () => committer.submit(appendOp(row())));
    await committer.close();
    expect(batches).toEqual([4, 4, 2]);
    expect(await Promise.all(all)).toHaveLength(10);
    await database.close();
  });

  it('fails only the write whose apply threw something unexpected', async () => {
    const database = await createTestDatabase(engine);
    const committer = new GroupCommitter(database, { maxBatch: 10, maxPending: 10 });
    const broken: WriteOp<string> = {
      apply: async (trx) => {
        await appendEvidence(trx, [row()]);
        throw new Error('bug in a handler');
      },
      recover: async (_trx, err) => {
        throw err;
      },
    };
    const results = await Promise.allSettled([
      committer.submit(appendOp(row())),
      committer.submit(broken),
      committer.submit(appendOp(row())),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rows = await database.db.selectFrom('evidence').select('id').execute();
    expect(rows).toHaveLength(2); // the broken write's insert was rolled back to its savepoint
    await committer.close();
    await database.close();
  });

  it('rejects every write of a batch whose transaction cannot commit', async () => {
    const database = await createTestDatabase(engine);
    const committer = new GroupCommitter(database, { maxBatch: 10, maxPending: 10 });
    await database.close(); // nothing can begin or commit now
    const results = await Promise.allSettled([
      committer.submit(appendOp(row())),
      committer.submit(appendOp(row())),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
