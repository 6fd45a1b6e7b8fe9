import { describe, expect, it } from 'vitest';
import { GroupCommitter, applyWrites, createWriteExecutor } from '@fieldproof/api';
import type { WriteRequest } from '@fieldproof/api';
import { DEFAULT_SQLITE_OPTIONS, countQueuedEvidence, newId } from '@fieldproof/db';
import type { NewEvidence } from '@fieldproof/db';
import { createTestApi, randomDigest } from '../../../test/support/api.js';
import type { ApiJson, TestApi } from '../../../test/support/api.js';
import { createTestDatabase, testEngines } from '../../../test/support/databases.js';
import { evidenceRow } from '../../../test/support/evidence-rows.js';

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
    expect(await countQueuedEvidence(t.database.db)).toBe(6);
    await t.close();
  });
});

describe.each(testEngines())('GroupCommitter and applyWrites (%s)', (engine) => {
  const row = (overrides: Partial<NewEvidence> = {}): NewEvidence =>
    evidenceRow({ kind: 'unit', ...overrides });
  const write = (evidence: NewEvidence = row()): WriteRequest => ({ kind: 'evidence', evidence });

  async function setup(options: { maxBatch: number; maxPending: number }) {
    const database = await createTestDatabase(engine);
    const executor = createWriteExecutor(database, DEFAULT_SQLITE_OPTIONS, {
      maxTransactionWrites: options.maxBatch,
    });
    const batches: number[] = [];
    const committer = new GroupCommitter(executor, {
      ...options,
      onBatch: (requests) => batches.push(requests.length),
    });
    return { database, executor, committer, batches };
  }

  it('sheds load with FP_OVERLOADED past maxPending, and refuses writes once closed', async () => {
    const { database, executor, committer, batches } = await setup({ maxBatch: 100, maxPending: 3 });
    const accepted = [committer.submit(write()), committer.submit(write()), committer.submit(write())];
    expect(() => committer.submit(write())).toThrow(
      expect.objectContaining({ code: 'FP_OVERLOADED', statusCode: 503 }),
    );
    expect((await Promise.all(accepted)).every((r) => r.ok)).toBe(true);
    expect(batches).toEqual([3]);
    expect(committer.pending).toBe(0);
    await committer.close();
    expect(() => committer.submit(write())).toThrow(expect.objectContaining({ code: 'FP_UNAVAILABLE' }));
    await executor.close();
    await database.close();
  });

  it('splits the queue into batches of at most maxBatch, and close() waits for all of them', async () => {
    const { database, executor, committer, batches } = await setup({ maxBatch: 4, maxPending: 100 });
    const all = Array.from({ length: 10 }, () => committer.submit(write()));
    await committer.close();
    expect(batches).toEqual([4, 4, 2]);
    expect(await Promise.all(all)).toHaveLength(10);
    const rows = await database.db.selectFrom('evidence').select('id').execute();
    expect(rows).toHaveLength(10);
    await executor.close();
    await database.close();
  });

  // On SQLite the executor is the writer thread, which writes through better-sqlite3 without kysely:
  // both paths must give the same answers.
  it.each(['applyWrites', 'the executor'] as const)(
    'reports each violation with the row it points at, and fails only that write (%s)',
    async (path) => {
      const database = await createTestDatabase(engine);
      const executor = createWriteExecutor(database, DEFAULT_SQLITE_OPTIONS, { maxTransactionWrites: 100 });
      const apply = (requests: WriteRequest[]) =>
        path === 'applyWrites' ? applyWrites(database.db, requests) : executor.execute(requests);
      const taken = row();
      expect((await apply([write(taken)]))[0]).toMatchObject({ ok: true });
      const recordEvidence = row({ source: 'record' });
      const countermeasure: WriteRequest = {
        kind: 'countermeasure',
        evidence: recordEvidence,
        row: {
          id: newId(),
          operation_id: 'op',
          evidence_id: recordEvidence.id,
          related_evidence_id: '01a1fff6-ff7b-7424-b0d7-69df5f9c8323',
          countermeasure_type: 't',
          target: null,
          deployed_at: 1,
          latitude: null,
          longitude: null,
          authorized_by: null,
          notes: null,
          created_at: 1,
        },
      };
      const startEvidence = row({ source: 'record' });
      const operationId = newId();
      const start: WriteRequest = {
        kind: 'jamming-operation',
        evidence: startEvidence,
        row: {
          id: operationId,
          operation_id: 'jam',
          evidence_id: startEvidence.id,
          related_evidence_id: null,
          frequency_low_hz: 1,
          frequency_high_hz: 2,
          power_dbm: null,
          target: null,
          authorized_by: 'a',
          started_at: 10,
          created_at: 10,
          updated_at: 10,
        },
      };
      const end = (): WriteRequest => {
        const evidence = row({ source: 'record' });
        return {
          kind: 'jamming-operation-end',
          evidence,
          end: {
            id: operationId,
            endedAt: 20,
            successMetric: 0.5,
            endEvidenceId: evidence.id,
            updatedAt: 20,
          },
        };
      };
      const results = await apply([
        write(),
        write(row({ digest: taken.digest })),
        write(row({ source: 'bogus' as NewEvidence['source'] })),
        write(),
        countermeasure,
        start,
        end(),
        end(),
      ]);
      expect(results.map((r) => (r.ok ? 'ok' : r.violation))).toEqual([
        'ok',
        'unique',
        'check',
        'ok',
        'foreign_key',
        'ok',
        'ok',
        'not_running',
      ]);
      expect(results[1]).toMatchObject({ ok: false, existing: { id: taken.id, digest: taken.digest } });
      expect(results[6]).toMatchObject({
        ok: true,
        row: { id: operationId, ended_at: 20, success_metric: 0.5 },
      });
      expect(results[7]).toMatchObject({ ok: false, existing: { id: operationId, ended_at: 20 } });
      const rows = await database.db.selectFrom('evidence').select('id').execute();
      expect(rows).toHaveLength(5); // the violations were rolled back to their savepoints
      expect(await countQueuedEvidence(database.db)).toBe(5);
      await executor.close();
      await database.close();
    },
  );

  it('the executor answers each batch with its own results, also when batches share a transaction', async () => {
    const database = await createTestDatabase(engine);
    const transactions: number[] = [];
    const executor = createWriteExecutor(database, DEFAULT_SQLITE_OPTIONS, {
      maxTransactionWrites: 10,
      onTransaction: (writes) => transactions.push(writes),
    });
    const taken = row();
    expect(await executor.execute([write(taken)])).toEqual([{ ok: true }]);
    transactions.length = 0;
    // 40 batches handed over at once (the SQLite writer thread takes them all and merges what queued up
    // while it was committing; PostgreSQL gets them one by one from the committer, here all at once).
    const batches = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 1 ? [write(), write(row({ digest: taken.digest })), write()] : [write()],
    );
    const answers = await Promise.all(batches.map((b) => executor.execute(b)));
    answers.forEach((results, i) => {
      expect(results.map((r) => (r.ok ? 'ok' : r.violation))).toEqual(
        i % 3 === 1 ? ['ok', 'unique', 'ok'] : ['ok'],
      );
    });
    const writes = batches.reduce((sum, b) => sum + b.length, 0);
    expect(transactions.reduce((a, b) => a + b, 0)).toBe(writes);
    expect(Math.max(...transactions)).toBeLessThanOrEqual(10);
    if (engine === 'sqlite') expect(transactions.length).toBeLessThan(batches.length); // merged
    const rows = await database.db.selectFrom('evidence').select('id').execute();
    const conflicts = batches.filter((_, i) => i % 3 === 1).length; // one duplicate digest each
    expect(rows).toHaveLength(1 + writes - conflicts);
    await executor.close();
    await database.close();
  });

  it('rejects every write of a batch whose transaction cannot commit', async () => {
    const database = await createTestDatabase(engine);
    const committer = new GroupCommitter(
      {
        maxBatchesInFlight: 1,
        execute: (requests) => applyWrites(database.db, requests),
        close: async () => undefined,
      },
      { maxBatch: 10, maxPending: 10 },
    );
    await database.close(); // nothing can begin or commit now
    const results = await Promise.allSettled([committer.submit(write()), committer.submit(write())]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
