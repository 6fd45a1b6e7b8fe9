import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import type { Engine } from '@fieldproof/db';
import { createDatabase, migrate } from '@fieldproof/db';
import { FIELDPROOF_BIN } from './support/api-process.js';
import {
  TestClock,
  anchorDeps,
  appendCheckpoint,
  driveUntil,
  jobsOf,
  txsOf,
} from './support/anchor-fixtures.js';
import { freshDatabaseUrl, targetOf, testEngines } from './support/databases.js';
import { closedAfterTest } from './support/lifetime.js';
import { useHardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { createAnchoring } from '../packages/keeper/src/anchor/index.js';

/**
 * `fieldproof anchors retry ID` (issue 17), the BUILT command against a real keeper's outbox on a real
 * hardhat node: a job dead-lettered because its signer cannot pay is re-queued by the command and,
 * once the signer is funded, goes the normal way to `final` — one new transaction, mined once. A job
 * that is not dead and an unknown id are refused with exit 2 and nothing changes.
 */
const node = useHardhatNode();

const fp = (args: string[], url: string) => runNode([FIELDPROOF_BIN, ...args], { API_DB_URL: url });

describe.each(testEngines())('%s', (engine: Engine) => {
  it(
    're-queues a dead-lettered job, which then reaches final; refuses live and unknown jobs',
    { timeout: 120_000 },
    async () => {
      const url = await freshDatabaseUrl(engine);
      const database = closedAfterTest(createDatabase(targetOf(url)));
      await migrate(database);
      const clock = new TestClock();
      const signer = Wallet.createRandom(); // no funds: every send fails, and the job dies after 2 attempts
      const deps = anchorDeps({
        database,
        chains: [{ name: 'local', rpcUrl: node.url, chainId: 31337, confirmations: 2 }],
        signerKey: signer.privateKey,
        clock,
        env: { KEEPER_MAX_ATTEMPTS: '2' },
      });
      const anchoring = createAnchoring(deps);
      try {
        await appendCheckpoint(database, 1, { now: clock.value });
        await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'dead', {
          clock,
          stepMs: 2500,
        });
        const [dead] = await jobsOf(database);
        expect(dead).toMatchObject({ state: 'dead', attempts: 2 });
        expect(dead!.last_error).toMatch(/^gave up after 2 attempts: .*enough funds/);
        const history = await txsOf(database, 'local');

        const listed = await fp(['anchors', 'list', '--state', 'dead', '--json'], url);
        expect(listed.code, listed.stderr).toBe(0);
        expect(JSON.parse(listed.stdout)).toEqual([
          expect.objectContaining({ id: dead!.id, state: 'dead', attempts: 2, lastError: dead!.last_error }),
        ]);
        const table = await fp(['anchors', 'list'], url);
        expect(table.stdout).toMatch(new RegExp(`^${dead!.id}\\s+local\\s+1\\s+dead\\s+2\\s`, 'm'));

        // Still dead after an hour: nothing retries a dead job on its own.
        clock.advance(3_600_000);
        for (const t of anchoring.tasks) await t.runOnce();
        expect((await jobsOf(database))[0]!.state).toBe('dead');

        await node.rpc('hardhat_setBalance', [signer.address, '0xde0b6b3a7640000']); // the cause, fixed: 1 ETH
        const retried = await fp(['anchors', 'retry', dead!.id], url);
        expect(retried.code, retried.stderr).toBe(0);
        expect(retried.stdout).toMatch(/re-queued anchor job .* pending, attempts reset/);
        const [queued] = await jobsOf(database);
        expect(queued).toMatchObject({ state: 'pending', attempts: 0, lease_owner: null });
        expect(queued!.lease_token).toBe(dead!.lease_token + 1); // any stale lease holder is fenced out
        expect(queued!.last_error).toBe(dead!.last_error); // kept as history until the next attempt
        expect(await txsOf(database, 'local')).toEqual(history);

        const again = await fp(['anchors', 'retry', dead!.id], url);
        expect(again.code).toBe(2);
        expect(again.stderr).toMatch(/is pending, not dead: only a dead-lettered job can be retried/);

        const startBlock = (await node.blockNumber()) + 1;
        await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'included', {
          clock,
        });
        await node.mineBlocks(1); // the second confirmation
        await driveUntil(anchoring.tasks, async () => (await jobsOf(database))[0]?.state === 'final', {
          clock,
        });
        const [final] = await jobsOf(database);
        expect(final).toMatchObject({ id: dead!.id, state: 'final', attempts: 0 });
        const mined = await node.transactionsFrom(signer.address, startBlock);
        expect(mined).toHaveLength(1); // exactly once
        expect((await txsOf(database, 'local')).filter((t) => t.state === 'final')).toHaveLength(1);

        const finalRetry = await fp(['anchors', 'retry', dead!.id], url);
        expect(finalRetry.code).toBe(2);
        expect(finalRetry.stderr).toMatch(/is final, not dead/);
        expect((await jobsOf(database))[0]!.state).toBe('final');
      } finally {
        await anchoring.close();
      }

      const unknown = await fp(['anchors', 'retry', '01a24d68-cb0a-702d-a6b1-80cca00f7eb1'], url);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no anchor job 01a24d68-cb0a-702d-a6b1-80cca00f7eb1/);
    },
  );
});

describe('usage', () => {
  const usage = [
    { args: ['anchors'], error: /missing sub-command/ },
    { args: ['anchors', 'retry'], error: /exactly one job id/ },
    { args: ['anchors', 'retry', 'a', 'b'], error: /exactly one job id/ },
    { args: ['anchors', 'list', '--state', 'zombie'], error: /unknown state "zombie"/ },
    { args: ['anchors', 'redo'], error: /unknown anchors sub-command/ },
  ];
  it.each(usage)('refuses $args with a one-line usage error (exit 2)', async ({ args, error }) => {
    const res = await runNode([FIELDPROOF_BIN, ...args], {
      API_DB_URL: 'sqlite:///nonexistent/never.sqlite3',
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(error);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('has --help with an example', async () => {
    const res = await runNode([FIELDPROOF_BIN, 'anchors', '--help'], {});
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/fieldproof anchors retry <id>/);
    expect(res.stdout).toMatch(/Example:\n\s+fieldproof anchors list --state dead/);
  });
});
