import { describe, expect, it } from 'vitest';
import { getLatestCheckpoint } from '@fieldproof/db';
import type { Database, Schema } from '@fieldproof/db';
import { toHex } from '@fieldproof/merkle';
import { verifyCosignature } from '@fieldproof/note';
import { consistencyProofFor } from '@fieldproof/proofs';
import type { JsonObject } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';
import { findDeviceByOrigin } from '@fieldproof/collector';
import type { PushRequest } from '@fieldproof/collector';
import { createTestCollector, sendPush } from '../packages/collector/test/support.js';
import { createTestDatabase, freshDatabaseUrl, testEngines } from './support/databases.js';
import { FIXTURE_ORIGIN, createLogFixture } from './support/log-fixture.js';

/**
 * What a unit's push is made of, read from a unit's own database (SQLite, written as the sequencer
 * writes it): the leaves after `acknowledged` joined with their evidence rows, the newest signed
 * checkpoint, and the consistency proof from `acknowledged` served by packages/proofs. This is the read
 * side the keeper's push outbox will have; here it proves the collector accepts a unit's log as stored.
 */
async function pushFromUnit(db: Kysely<Schema>, acknowledged: number): Promise<PushRequest> {
  const checkpoint = (await getLatestCheckpoint(db))!;
  const rows = await db
    .selectFrom('log_leaves as l')
    .innerJoin('evidence as e', 'e.id', 'l.evidence_id')
    .select(['l.leaf_index', 'l.leaf_hash', 'e.id', 'e.digest', 'e.kind', 'e.occurred_at', 'e.received_at'])
    .select(['e.payload_mime', 'e.metadata', 'e.content_stored'])
    .where('l.leaf_index', '>=', acknowledged)
    .orderBy('l.leaf_index')
    .execute();
  const proof = acknowledged === 0 ? [] : await consistencyProofFor(db, acknowledged, checkpoint.tree_size);
  return {
    checkpoint: checkpoint.signed_note,
    ...(acknowledged === 0
      ? {}
      : {
          consistency: {
            fromTreeSize: acknowledged,
            proof: proof.map((h) => Buffer.from(h).toString('base64')),
          },
        }),
    leaves: rows.map((r) => ({
      leafIndex: Number(r.leaf_index),
      leafHash: r.leaf_hash,
      content: r.content_stored === 1,
      record: {
        id: r.id,
        digest: r.digest,
        kind: r.kind,
        occurredAt: Number(r.occurred_at),
        receivedAt: Number(r.received_at),
        payloadMime: r.payload_mime,
        metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as JsonObject),
      },
    })),
  };
}

describe.each(testEngines())('a unit database mirrored by a collector on %s', (engine) => {
  it('accepts the log exactly as a unit stores it, batch after batch, and rebuilds its root', async () => {
    let unit: Database | undefined;
    const c = await createTestCollector(await freshDatabaseUrl(engine));
    try {
      unit = await createTestDatabase('sqlite');
      const log = await createLogFixture(unit.db);
      const key = await c.enroll({ origin: FIXTURE_ORIGIN, key: log.key });
      let acknowledged = 0;
      for (const batch of [1, 6, 33, 1, 90]) {
        await log.appendBatch(batch);
        const res = await sendPush(c.app, FIXTURE_ORIGIN, key, await pushFromUnit(unit.db, acknowledged));
        expect(res.statusCode, res.body).toBe(200);
        const accepted = res.json<{ treeSize: number; rootHash: string; cosignature: string }>();
        const checkpoint = (await getLatestCheckpoint(unit.db))!;
        expect(accepted).toMatchObject({ treeSize: checkpoint.tree_size, rootHash: checkpoint.root_hash });
        verifyCosignature(checkpoint.signed_note + accepted.cosignature, c.cosigner.verifierKey);
        acknowledged = accepted.treeSize;
      }
      const device = (await findDeviceByOrigin(c.collector.db, FIXTURE_ORIGIN))!;
      expect(device).toMatchObject({ tree_size: 131, root_hash: toHex(log.tree.root()) });
    } finally {
      await unit?.close();
      await c.close();
    }
  });
});
