import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appendEvidence, countQueuedEvidence, newId } from '@fieldproof/db';
import type { Database, NewEvidence } from '@fieldproof/db';
import { createSequencer } from '@fieldproof/keeper';
import { createTestDatabase, testEngines } from '../../../test/support/databases.js';
import { drain, testDeps, testDevice } from './support.js';
import { evidenceRow } from '../../../test/support/evidence-rows.js';

/**
 * Exactly-once when evidence commits out of id order. The api takes a UUIDv7 id before its transaction;
 * on PostgreSQL two transactions commit in either order, so the later id can be visible first (a
 * sequencer that read "ids after my watermark" would then skip the earlier one for good). On SQLite
 * (migration 0007) the sequencer reads by rowid: a row with a smaller id committed after a sequenced one
 * must still be sequenced, once.
 */

function evidence(id: string): NewEvidence {
  return evidenceRow({
    id,
    digest: createHash('sha256').update(id).digest('hex'),
    occurred_at: 1_700_000_000_000,
    received_at: 1_700_000_000_001,
  });
}

async function leafIds(database: Database): Promise<string[]> {
  const rows = await database.db
    .selectFrom('log_leaves')
    .select('evidence_id')
    .orderBy('leaf_index')
    .execute();
  return rows.map((r) => r.evidence_id);
}

describe.each(testEngines())('sequencing evidence committed out of id order on %s', (engine) => {
  it('the earlier id, committed after the later one was sequenced, gets exactly one leaf', async () => {
    const database = await createTestDatabase(engine);
    try {
      const sequencer = createSequencer(testDeps(database), testDevice());
      const early = newId();
      const late = newId();
      expect(early < late).toBe(true);
      await database.db.transaction().execute((trx) => appendEvidence(trx, [evidence(newId())]));
      await drain(sequencer);

      if (engine === 'postgres') {
        // Two connections: the earlier id's transaction is open (row inserted, not committed) while the
        // later id commits and is sequenced.
        let commitEarly!: () => void;
        const earlyMayCommit = new Promise<void>((resolve) => (commitEarly = resolve));
        let earlyInserted!: () => void;
        const inserted = new Promise<void>((resolve) => (earlyInserted = resolve));
        const earlyTx = database.db.transaction().execute(async (trx) => {
          await appendEvidence(trx, [evidence(early)]);
          earlyInserted();
          await earlyMayCommit;
        });
        await inserted;
        await database.db.transaction().execute((trx) => appendEvidence(trx, [evidence(late)]));
        expect(await drain(sequencer)).toBe(1);
        expect((await leafIds(database)).slice(1)).toEqual([late]);
        commitEarly();
        await earlyTx;
      } else {
        // One writer at a time: the later id commits and is sequenced, then the earlier id commits.
        await database.db.transaction().execute((trx) => appendEvidence(trx, [evidence(late)]));
        expect(await drain(sequencer)).toBe(1);
        expect((await leafIds(database)).slice(1)).toEqual([late]);
        await database.db.transaction().execute((trx) => appendEvidence(trx, [evidence(early)]));
      }

      expect(await countQueuedEvidence(database.db)).toBe(1);
      expect(await drain(sequencer)).toBe(1);
      expect((await leafIds(database)).slice(1)).toEqual([late, early]);
      expect(await countQueuedEvidence(database.db)).toBe(0);
      expect(await drain(sequencer)).toBe(0);
      const size = await database.db
        .selectFrom('log_leaves')
        .select((eb) => eb.fn.countAll().as('n'))
        .execute();
      expect(Number(size[0]!.n)).toBe(3);
    } finally {
      await database.close();
    }
  });
});
