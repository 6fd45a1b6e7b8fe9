import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@fieldproof/config';
import { DatabaseUrlError } from '@fieldproof/db';
import { tempDir } from '../../../test/support/databases.js';

const chain = { name: 'local', rpcUrl: 'http://127.0.0.1:8545', chainId: 31337, confirmations: 2 };

describe('loadConfig', () => {
  it('defaults match the SPEC names table', () => {
    const { config, secrets } = loadConfig({}, '/srv/fp');
    expect(config.database.target).toMatchObject({
      engine: 'sqlite',
      path: '/srv/fp/blockchain_outbox.sqlite3',
    });
    expect(config.database.sqlite.synchronous).toBe('FULL');
    expect(config.dataDir).toBe('/srv/fp/fieldproof-data');
    expect(config.legacyDataDir).toBe('/srv/fp');
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.keeper).toMatchObject({
      host: '127.0.0.1',
      port: 8081,
      pollMs: 5000,
      confirmPollMs: 30000,
      provider: 'stub',
    });
    expect(config.keeper.chains).toEqual([]);
    expect(config.device.keyFile).toBe('/srv/fp/fieldproof-data/device.key');
    expect(secrets).toEqual({ signerKeyFile: undefined, signerKey: undefined, deviceKey: undefined });
    expect(Object.isFrozen(config.api)).toBe(true);
  });

  it('data folder defaults to fieldproof-data/ beside the database file, never the folder itself', () => {
    const { config } = loadConfig({ API_DB_URL: 'sqlite:///var/lib/fp/db.sqlite3' }, '/srv');
    expect(config.dataDir).toBe('/var/lib/fp/fieldproof-data');
    expect(config.legacyDataDir).toBe('/var/lib/fp');
    const configured = loadConfig({ FIELDPROOF_DATA_DIR: 'data' }, '/srv').config;
    expect(configured.dataDir).toBe('/srv/data');
    expect(configured.legacyDataDir).toBeUndefined();
    const pg = loadConfig({ API_DB_URL: 'postgres://u@h/db' }, '/srv').config;
    expect(pg.dataDir).toBe('/srv/fieldproof-data');
    expect(pg.legacyDataDir).toBeUndefined();
  });

  it('API_MAX_EVENT_LOOP_DELAY_MS: 1000 by default, 0 turns the check off', () => {
    expect(loadConfig({}, '/').config.api.maxEventLoopDelayMs).toBe(1000);
    expect(loadConfig({ API_MAX_EVENT_LOOP_DELAY_MS: '0' }, '/').config.api.maxEventLoopDelayMs).toBe(0);
    expect(loadConfig({ API_MAX_EVENT_LOOP_DELAY_MS: '10' }, '/').config.api.maxEventLoopDelayMs).toBe(10);
  });

  it('reads KEEPER_CHAINS inline and from @file', () => {
    const evm = loadConfig({ KEEPER_PROVIDER: 'evm', KEEPER_CHAINS: JSON.stringify([chain]) }, '/');
    expect(evm.config.keeper.chains[0]).toMatchObject({ ...chain, finality: 'auto' });
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, 'chains.json'),
      JSON.stringify([chain, { ...chain, name: 'second', chainId: 5 }]),
    );
    const multi = loadConfig({ KEEPER_PROVIDER: 'multi', KEEPER_CHAINS: '@chains.json' }, dir);
    expect(multi.config.keeper.chains.map((c) => c.name)).toEqual(['local', 'second']);
  });

  it('keeps secrets out of the config object', () => {
    const { config, secrets } = loadConfig(
      { KEEPER_SIGNER_KEY: '0xabc', FIELDPROOF_DEVICE_KEY: 'PRIVATE+KEY+x' },
      '/',
    );
    expect(
      JSON.stringify(config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    ).not.toMatch(/0xabc|PRIVATE/);
    expect(secrets.signerKey).toBe('0xabc');
  });

  const bad: { name: string; env: Record<string, string>; variable: string }[] = [
    { name: 'port not a number', env: { API_PORT: 'eighty' }, variable: 'API_PORT' },
    { name: 'port out of range', env: { KEEPER_HTTP_PORT: '70000' }, variable: 'KEEPER_HTTP_PORT' },
    {
      name: 'event-loop delay below the monitor resolution',
      env: { API_MAX_EVENT_LOOP_DELAY_MS: '5' },
      variable: 'API_MAX_EVENT_LOOP_DELAY_MS',
    },
    { name: 'unknown provider', env: { KEEPER_PROVIDER: 'solana' }, variable: 'KEEPER_PROVIDER' },
    { name: 'evm without chain', env: { KEEPER_PROVIDER: 'evm' }, variable: 'KEEPER_PROVIDER' },
    { name: 'chains not JSON', env: { KEEPER_CHAINS: '[{' }, variable: 'KEEPER_CHAINS' },
    {
      name: 'chain unknown field',
      env: { KEEPER_CHAINS: JSON.stringify([{ ...chain, rpc: 'x' }]) },
      variable: 'KEEPER_CHAINS[0]',
    },
    {
      name: 'chain bad id',
      env: { KEEPER_CHAINS: JSON.stringify([{ ...chain, chainId: -1 }]) },
      variable: 'KEEPER_CHAINS[0]',
    },
    {
      name: 'duplicate chain',
      env: { KEEPER_CHAINS: JSON.stringify([chain, chain]) },
      variable: 'KEEPER_CHAINS',
    },
    {
      name: 'missing chains file',
      env: { KEEPER_CHAINS: '@/nonexistent/chains.json' },
      variable: 'KEEPER_CHAINS',
    },
    {
      name: 'synchronous typo',
      env: { FIELDPROOF_SQLITE_SYNCHRONOUS: 'FUL' },
      variable: 'FIELDPROOF_SQLITE_SYNCHRONOUS',
    },
    {
      name: 'both signer forms',
      env: { KEEPER_SIGNER_KEY: 'a', KEEPER_SIGNER_KEY_FILE: 'b' },
      variable: 'KEEPER_SIGNER_KEY',
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}, naming ${c.variable}`, () => {
      expect(() => loadConfig(c.env, '/')).toThrow(ConfigError);
      expect(() => loadConfig(c.env, '/')).toThrow(new RegExp(`^${c.variable.replace(/[[\]]/g, '\\$&')}: `));
    });
  }

  it('a bad database URL is a DatabaseUrlError naming its variable', () => {
    expect(() => loadConfig({ KEEPER_DB_URL: 'redis://x' }, '/')).toThrow(DatabaseUrlError);
    expect(() => loadConfig({ KEEPER_DB_URL: 'redis://x' }, '/')).toThrow(/^KEEPER_DB_URL=/);
  });
});
