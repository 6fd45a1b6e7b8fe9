import { describe, expect, it } from 'vitest';
import { insertCheckpoint, saveChainFinalizedBlock } from '@fieldproof/db';
import { createTestApi, randomDigest } from '../../../test/support/api.js';
import type { ApiJson } from '../../../test/support/api.js';
import { CapturedLogs, TestClock } from '../../../test/support/anchor-fixtures.js';
import { testEngines } from '../../../test/support/databases.js';

const BLOCK_AT = 1_800_000_000_000; // the finalized block's time
const BLOCK = { chainId: 31337, number: 42, hash: `0x${'5a'.repeat(32)}`, timestamp: BLOCK_AT };

/**
 * A unit that boots on a stale clock (no RTC, fake-hwclock): the api's clock (injected here) reads
 * earlier than a finalized block it already knows, or than the last checkpoint the device signed. New
 * records are flagged clockSuspect, /readyz fails naming the reason, and the warning is logged once per
 * change of state, not per request. The records still carry the block: the bracket does not come from
 * the device clock.
 */
describe.each(testEngines())('a clock that cannot be trusted (%s)', (engine) => {
  it('flags new records, fails /readyz with the reason and warns once per change of state', async () => {
    const clock = new TestClock(BLOCK_AT - 3_600_000);
    const logs = new CapturedLogs('info');
    const t = await createTestApi(engine, {}, { now: clock.now, logger: logs.logger });
    try {
      const post = async () => {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/evidence',
          headers: t.auth.write,
          payload: { digest: randomDigest(), kind: 'photo', occurredAt: clock.value },
        });
        expect(res.statusCode).toBe(201);
        return res.json<ApiJson>();
      };
      const readyz = () => t.app.inject({ method: 'GET', url: '/readyz' });
      const clockLines = () => logs.entries().filter((e) => /^clock (suspect|trusted)/.test(String(e.msg)));

      // No chain reached, no checkpoint: nothing to compare with; a v2 record that says "no block".
      expect((await readyz()).statusCode).toBe(200);
      expect(await post()).toMatchObject({
        leafFormat: 'fieldproof-leaf/v2',
        notBefore: null,
        clockSuspect: false,
      });

      // The keeper records a finalized block that is an hour ahead of this clock.
      await saveChainFinalizedBlock(t.database.db, { chain: 'local', ...BLOCK, seenAt: clock.value });
      const notReady = await readyz(); // also re-reads the block
      expect(notReady.statusCode).toBe(503);
      expect(notReady.json()).toMatchObject({ code: 'FP_NOT_READY' });
      expect(notReady.json<ApiJson>().message).toContain(
        `clock suspect: the clock (${new Date(clock.value).toISOString()}) is behind finalized block 42 of chain 31337 (${new Date(BLOCK_AT).toISOString()})`,
      );
      const suspect = [await post(), await post()];
      for (const body of suspect) expect(body).toMatchObject({ notBefore: BLOCK, clockSuspect: true });
      // Stored as written: the row is the leaf's source.
      const row = await t.database.db
        .selectFrom('evidence')
        .select(['leaf_version', 'clock_suspect', 'not_before_number', 'not_before_hash'])
        .where('id', '=', suspect[0]!.id)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({
        leaf_version: 2,
        clock_suspect: 1,
        not_before_number: 42,
        not_before_hash: BLOCK.hash,
      });
      expect(clockLines().map((e) => [e.level, e.msg])).toEqual([
        [40, expect.stringContaining('clock suspect: the clock') as unknown],
      ]);

      // The clock is set right: records are trusted again, readiness recovers, one line says so.
      clock.value = BLOCK_AT + 1_000;
      expect(await post()).toMatchObject({ notBefore: BLOCK, clockSuspect: false });
      expect((await readyz()).statusCode).toBe(200);
      expect(clockLines().map((e) => e.level)).toEqual([40, 30]);

      // The device signed a checkpoint later than the clock now reads (it went back after a reboot).
      await insertCheckpoint(t.database.db, {
        treeSize: 1,
        rootHash: 'ab'.repeat(32),
        origin: 'o',
        signedNote: 'n',
        createdAt: BLOCK_AT + 60_000,
      });
      const behindCheckpoint = await readyz();
      expect(behindCheckpoint.statusCode).toBe(503);
      expect(behindCheckpoint.json<ApiJson>().message).toContain(
        `is behind the last signed checkpoint (${new Date(BLOCK_AT + 60_000).toISOString()})`,
      );
      expect(await post()).toMatchObject({ clockSuspect: true });
      expect(clockLines().map((e) => e.level)).toEqual([40, 30, 40]);
    } finally {
      await t.close();
    }
  });
});
