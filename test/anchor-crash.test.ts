import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAnchorTxsOfChain } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { decodeAnchorPayload } from '@fieldproof/receipt';
import { appendCheckpoint } from './support/anchor-fixtures.js';
import { createTestDatabase } from './support/databases.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, type HardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';

/**
 * Crash safety across processes: a real child process anchors and SIGKILLs itself (ANCHOR_CHILD_CRASH_AT: the
 * child passes the point to createAnchoring's `atPoint` option; the production config has no such switch)
 * after persisting the signed transaction but before broadcasting it, or after broadcasting it but before
 * recording that; a second process reconciles. Exactly one anchor transaction per checkpoint reaches the
 * chain. The children run the built dist (`npm run build` first; `npm test` does it).
 */

const CHILD = fileURLToPath(new URL('./support/anchor-child.mjs', import.meta.url));
const SIGNER = HARDHAT_ACCOUNTS[2];
let node: HardhatNode;

beforeAll(async () => {
  if (!fs.existsSync(fileURLToPath(new URL('../packages/keeper/dist/anchor/index.js', import.meta.url)))) {
    throw new Error('packages/keeper/dist/anchor is missing: run `npm run build` first');
  }
  node = await startHardhatNode();
});
afterAll(async () => {
  await node?.stop();
});

function childEnv(database: Database, extra: Record<string, string> = {}): Record<string, string> {
  if (database.target.engine !== 'sqlite') throw new Error('sqlite only');
  return {
    API_DB_URL: `sqlite://${database.target.path}`,
    KEEPER_DB_URL: '',
    KEEPER_PROVIDER: 'evm',
    KEEPER_CHAINS: JSON.stringify([{ name: 'local', rpcUrl: node.url, chainId: 31337, confirmations: 2 }]),
    KEEPER_SIGNER_KEY: SIGNER.privateKey,
    KEEPER_BATCH_MAX_LEAVES: '1',
    KEEPER_POLL_MS: '25',
    KEEPER_CONFIRM_POLL_MS: '25',
    KEEPER_LEASE_MS: '500',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

describe.each(['after-persist', 'after-broadcast'] as const)('a keeper killed %s', (point) => {
  it('restarts and reconciles by hash: exactly one anchor transaction per checkpoint on chain', async () => {
    const database = await createTestDatabase('sqlite');
    const startBlock = (await node.blockNumber()) + 1;
    const cp = await appendCheckpoint(database, 4);

    const crashed = await runNode([CHILD], childEnv(database, { ANCHOR_CHILD_CRASH_AT: point }));
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.stderr).toContain('ANCHOR_CHILD_CRASH_AT: killing the process');
    const [persisted] = await listAnchorTxsOfChain(database.db, 'local');
    expect(persisted).toMatchObject({ state: 'signed' }); // bytes, hash and nonce were on disk first
    const seen = await node.transactionsFrom(SIGNER.address, startBlock);
    expect(seen.map((t) => t.hash)).toEqual(point === 'after-persist' ? [] : [persisted!.tx_hash]);

    // A block on top, so that two confirmations can happen while the restarted keeper watches.
    const miner = setInterval(() => void node.mine().catch(() => undefined), 100);
    let restarted;
    try {
      restarted = await runNode([CHILD], childEnv(database));
    } finally {
      clearInterval(miner);
    }
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(JSON.parse(restarted.stdout)).toEqual({ jobs: [{ treeSize: cp.treeSize, state: 'final' }] });

    const txs = await listAnchorTxsOfChain(database.db, 'local');
    expect(txs).toHaveLength(1);
    expect(txs[0]).toMatchObject({ tx_hash: persisted!.tx_hash, raw_tx: persisted!.raw_tx, state: 'final' });
    const anchors = (await node.transactionsFrom(SIGNER.address, startBlock)).filter((t) =>
      t.input.startsWith('0x46504131'),
    );
    expect(anchors).toHaveLength(1);
    expect(anchors[0]!.hash).toBe(persisted!.tx_hash);
    expect(decodeAnchorPayload(anchors[0]!.input)).toMatchObject({
      origin: cp.origin,
      treeSize: cp.treeSize,
    });
    await database.close();
  });
});
