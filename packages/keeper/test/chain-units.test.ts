import { describe, expect, it } from 'vitest';
import { loadConfig } from '@fieldproof/config';
import {
  RpcResponseError,
  RpcTransportError,
  backoffDelay,
  bumpFees,
  createAnchoring,
  classifyChainError,
  initialFees,
  isPermanentChainError,
  minimumBump,
  type ChainErrorKind,
  type FeeSuggestion,
} from '../src/anchor/index.js';

import { createTestDatabase } from '../../../test/support/databases.js';
import { HARDHAT_ACCOUNTS } from '../../../test/support/hardhat.js';
import { anchorDeps } from '../../../test/support/anchor-fixtures.js';

const GWEI = 1_000_000_000n;

describe('classifyChainError', () => {
  // Messages as hardhat 2.29 (EDR) and geth word them; the hardhat ones were captured from a real node.
  const cases: { name: string; code: number; message: string; kind: ChainErrorKind }[] = [
    {
      name: 'hardhat: same bytes again',
      code: -32000,
      message: 'Known transaction: 0x78122a61931e2b77a8fc95127882102b2f567be5de2413aac220992980c95485',
      kind: 'already-known',
    },
    { name: 'geth: same bytes again', code: -32000, message: 'already known', kind: 'already-known' },
    {
      name: 'hardhat: nonce too low',
      code: -32000,
      message:
        "Nonce too low. Expected nonce to be 1 but got 0. Note that transactions can't be queued when automining.",
      kind: 'nonce-too-low',
    },
    {
      name: 'geth: nonce too low',
      code: -32000,
      message: 'nonce too low: next nonce 5, tx nonce 4',
      kind: 'nonce-too-low',
    },
    {
      name: 'hardhat: nonce too high',
      code: -32000,
      message:
        "Nonce too high. Expected nonce to be 1 but got 5. Note that transactions can't be queued when automining.",
      kind: 'nonce-too-high',
    },
    {
      name: 'hardhat: replacement underpriced',
      code: -32000,
      message:
        'Replacement transaction underpriced. A gasPrice/maxFeePerGas of at least 3300000000 is necessary to replace the existing transaction with nonce 1.',
      kind: 'replacement-underpriced',
    },
    {
      name: 'geth: replacement underpriced',
      code: -32000,
      message: 'replacement transaction underpriced',
      kind: 'replacement-underpriced',
    },
    {
      name: 'hardhat: fee cap below base fee',
      code: -32000,
      message:
        'Transaction maxFeePerGas (1) is too low for the next block, which has a baseFeePerGas of 392735473',
      kind: 'fee-too-low',
    },
    {
      name: 'geth: fee cap below base fee',
      code: -32000,
      message: 'max fee per gas less than block base fee: address 0x…, maxFeePerGas: 1, baseFee: 7',
      kind: 'fee-too-low',
    },
    {
      name: 'geth: pool minimum',
      code: -32000,
      message: 'transaction underpriced: tip needed 1, tip permitted 0',
      kind: 'fee-too-low',
    },
    {
      name: 'hardhat: no funds',
      code: -32000,
      message:
        "Sender doesn't have enough funds to send tx. The max upfront cost is: 90000000000000 and the sender's balance is: 0.",
      kind: 'insufficient-funds',
    },
    {
      name: 'geth: no funds',
      code: -32000,
      message: 'insufficient funds for gas * price + value',
      kind: 'insufficient-funds',
    },
    {
      name: 'hardhat: revert in estimateGas',
      code: -32603,
      message: 'Error: Transaction reverted without a reason string',
      kind: 'reverted',
    },
    { name: 'geth: execution reverted', code: 3, message: 'execution reverted', kind: 'reverted' },
    {
      name: 'hardhat: wrong chain id',
      code: -32602,
      message: 'Trying to send a raw transaction with an invalid chainId. The expected chainId is 31337',
      kind: 'invalid',
    },
    {
      name: 'hardhat: intrinsic gas',
      code: -32000,
      message: 'Transaction requires at least 21000 gas but got 20000',
      kind: 'invalid',
    },
    { name: 'geth: intrinsic gas', code: -32000, message: 'intrinsic gas too low', kind: 'invalid' },
    { name: 'anything else', code: -32005, message: 'limit exceeded', kind: 'rpc' },
  ];
  it.each(cases)('$name → $kind', ({ code, message, kind }) => {
    expect(classifyChainError(new RpcResponseError('eth_sendRawTransaction', code, message, null))).toBe(
      kind,
    );
  });

  it('a request without an answer is a transport error; only reverted and invalid are permanent', () => {
    expect(classifyChainError(new RpcTransportError('timeout', 'x: no answer within 10 ms'))).toBe(
      'transport',
    );
    const permanent = cases.map((c) => c.kind).filter(isPermanentChainError);
    expect(new Set(permanent)).toEqual(new Set(['reverted', 'invalid']));
  });
});

describe('fees', () => {
  const eip1559 = (base: bigint, tip: bigint): FeeSuggestion => ({
    type: 2,
    baseFeePerGas: base,
    maxPriorityFeePerGas: tip,
  });

  it('offers twice the base fee plus the tip, within the cap; nothing when the base fee is at the cap', () => {
    expect(initialFees(eip1559(10n * GWEI, 2n * GWEI), 100n * GWEI)).toEqual({
      type: 2,
      maxFeePerGas: 22n * GWEI,
      maxPriorityFeePerGas: 2n * GWEI,
    });
    expect(initialFees(eip1559(10n * GWEI, 2n * GWEI), 15n * GWEI)).toEqual({
      type: 2,
      maxFeePerGas: 15n * GWEI,
      maxPriorityFeePerGas: 2n * GWEI,
    });
    expect(initialFees(eip1559(15n * GWEI, 2n * GWEI), 15n * GWEI)).toBeUndefined();
    expect(initialFees({ type: 0, gasPrice: 5n * GWEI }, 10n * GWEI)).toEqual({
      type: 0,
      maxFeePerGas: 5n * GWEI,
      maxPriorityFeePerGas: 5n * GWEI,
    });
  });

  it('bumps both fees by at least 12.5 % (rounded up), follows a rising market, and stops at the cap', () => {
    expect(minimumBump(8n)).toBe(9n);
    expect(minimumBump(9n)).toBe(11n); // 10.125 → 11
    const prev = { type: 2 as const, maxFeePerGas: 20n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    expect(bumpFees(prev, eip1559(5n * GWEI, 1n * GWEI), 100n * GWEI)).toEqual({
      type: 2,
      maxFeePerGas: 22_500_000_000n,
      maxPriorityFeePerGas: 2_250_000_000n,
    });
    expect(bumpFees(prev, eip1559(30n * GWEI, 3n * GWEI), 100n * GWEI)).toEqual({
      type: 2,
      maxFeePerGas: 63n * GWEI,
      maxPriorityFeePerGas: 3n * GWEI,
    });
    expect(bumpFees(prev, eip1559(30n * GWEI, 3n * GWEI), 40n * GWEI)).toEqual({
      type: 2,
      maxFeePerGas: 40n * GWEI,
      maxPriorityFeePerGas: 3n * GWEI,
    });
    expect(bumpFees(prev, eip1559(5n * GWEI, 1n * GWEI), 22n * GWEI)).toBeUndefined(); // < +12.5 % fits
    const legacy = { type: 0 as const, maxFeePerGas: 8n * GWEI, maxPriorityFeePerGas: 8n * GWEI };
    expect(bumpFees(legacy, { type: 0, gasPrice: 1n * GWEI }, 100n * GWEI)).toEqual({
      type: 0,
      maxFeePerGas: 9n * GWEI,
      maxPriorityFeePerGas: 9n * GWEI,
    });
  });
});

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, jittered within [d/2, d]', () => {
    const lo = () => 0;
    const hi = () => 1;
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, 100, 1000, hi))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, 100, 1000, lo))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect(backoffDelay(1000, 100, 1000, hi)).toBe(1000); // no overflow
  });
});

describe('anchoring settings', () => {
  const base = { API_DB_URL: 'sqlite:///tmp/fieldproof-never-opened.sqlite3' };
  const chain = { name: 'local', rpcUrl: 'http://127.0.0.1:8545', chainId: 31337 };

  it('defaults: 10 s RPC timeout; the production config has no test switch', () => {
    const { config } = loadConfig({ ...base, FIELDPROOF_TEST_CRASH_AT: 'after-broadcast' });
    expect(config.keeper.rpcTimeoutMs).toBe(10_000);
    // The crash point is injected by the tests through AnchoringOptions.atPoint, never read from the env.
    expect(Object.keys(config.keeper)).not.toContain('testCrashAt');
    expect(JSON.stringify(config)).not.toContain('after-broadcast');
  });

  it.each([
    { env: { KEEPER_RPC_TIMEOUT_MS: '10' }, line: 'KEEPER_RPC_TIMEOUT_MS: 10 is out of range' },
    {
      env: {
        KEEPER_PROVIDER: 'evm',
        KEEPER_CHAINS: JSON.stringify([{ ...chain, rpcUrl: 'wss://node.example/KEY' }]),
      },
      line: 'KEEPER_CHAINS[0]: rpcUrl must be an http:// or https:// URL',
    },
  ])('refuses $line', ({ env, line }) => {
    let message = '';
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.startsWith(line)).toBe(true);
    expect(message).not.toContain('KEY'); // an RPC URL may hold an API key: never echoed
  });

  it('KEEPER_CRON_RECHECK_FINAL: daily by default, "off" turns the sweep off; an invalid one is refused', async () => {
    expect(loadConfig(base).config.keeper.cronRecheckFinal).toBe('17 3 * * *');
    expect(loadConfig({ ...base, KEEPER_CRON_RECHECK_FINAL: 'off' }).config.keeper.cronRecheckFinal).toBe(
      undefined,
    );
    expect(
      loadConfig({ ...base, KEEPER_CRON_RECHECK_FINAL: '*/30 * * * *' }).config.keeper.cronRecheckFinal,
    ).toBe('*/30 * * * *');
    const database = await createTestDatabase('sqlite');
    try {
      const deps = (env: Record<string, string>) =>
        anchorDeps({ database, chains: [chain], signerKey: HARDHAT_ACCOUNTS[0].privateKey, env });
      expect(() => createAnchoring(deps({ KEEPER_CRON_RECHECK_FINAL: 'every night' }))).toThrow(
        /^KEEPER_CRON_RECHECK_FINAL: "every night" is not a valid cron expression/,
      );
      await createAnchoring(deps({ KEEPER_CRON_RECHECK_FINAL: '*/30 * * * *' })).close();
    } finally {
      await database.close();
    }
  });

  it('reads KEEPER_RPC_TIMEOUT_MS', () => {
    expect(loadConfig({ ...base, KEEPER_RPC_TIMEOUT_MS: '250' }).config.keeper.rpcTimeoutMs).toBe(250);
  });
});
