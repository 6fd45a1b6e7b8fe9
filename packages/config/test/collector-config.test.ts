import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_COLLECTOR_DB_URL,
  MIB,
  loadCollectorConfig,
  loadCollectorSettings,
} from '../src/index.js';

describe('loadCollectorConfig', () => {
  it('defaults: its own SQLite database, 127.0.0.1:8082, data and witness key beside it', () => {
    const config = loadCollectorConfig({}, '/srv/c');
    expect(config.database.target).toMatchObject({
      engine: 'sqlite',
      url: DEFAULT_COLLECTOR_DB_URL,
      path: '/srv/c/fieldproof-collector.sqlite3',
    });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8082,
      dataDir: '/srv/c/fieldproof-collector-data',
      witness: { keyFile: '/srv/c/fieldproof-collector-data/witness.key', name: 'fieldproof-collector' },
      bodyLimitBytes: 32 * MIB,
    });
    expect(Object.isFrozen(config.witness)).toBe(true);
  });

  it("data folder: the unit's rule (beside the SQLite file, else the working folder), with its own name", () => {
    expect(loadCollectorConfig({ COLLECTOR_DB_URL: 'sqlite:///var/lib/c/c.sqlite3' }, '/srv/c').dataDir).toBe(
      '/var/lib/c/fieldproof-collector-data',
    );
    const pg = loadCollectorConfig({ COLLECTOR_DB_URL: 'postgres://u@h/collector' }, '/srv/c');
    expect(pg.dataDir).toBe('/srv/c/fieldproof-collector-data');
    expect(pg.witness.keyFile).toBe('/srv/c/fieldproof-collector-data/witness.key');
    expect(loadCollectorConfig({ COLLECTOR_DATA_DIR: 'd' }, '/srv/c').dataDir).toBe('/srv/c/d');
  });

  it('never reads the unit URL chain', () => {
    const config = loadCollectorConfig(
      { API_DB_URL: 'postgres://u@h/unit', KEEPER_DB_URL: 'postgres://u@h/unit' },
      '/x',
    );
    expect(config.database.target.url).toBe(DEFAULT_COLLECTOR_DB_URL);
  });

  it('reads COLLECTOR_* settings', () => {
    const config = loadCollectorConfig(
      {
        COLLECTOR_DB_URL: 'postgres://c@db:5432/collector',
        COLLECTOR_HOST: '0.0.0.0',
        COLLECTOR_PORT: '9000',
        COLLECTOR_DATA_DIR: 'data',
        COLLECTOR_WITNESS_KEY_FILE: '/keys/w.key',
        COLLECTOR_WITNESS_NAME: 'witness.example.com/w1',
        COLLECTOR_DB_POOL_MAX: '2',
      },
      '/srv',
    );
    expect(config.database).toMatchObject({
      target: { engine: 'postgres', variable: 'COLLECTOR_DB_URL' },
      poolMax: 2,
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      dataDir: path.join('/srv', 'data'),
      witness: { keyFile: '/keys/w.key', name: 'witness.example.com/w1' },
    });
  });

  it.each([
    { name: 'a bad URL', env: { COLLECTOR_DB_URL: 'mysql://x/y' }, message: /COLLECTOR_DB_URL/ },
    { name: 'a bad port', env: { COLLECTOR_PORT: '70000' }, message: /COLLECTOR_PORT/ },
    {
      name: 'a witness name with a space',
      env: { COLLECTOR_WITNESS_NAME: 'a b' },
      message: /COLLECTOR_WITNESS_NAME/,
    },
    { name: 'no connections', env: { COLLECTOR_DB_POOL_MAX: '0' }, message: /COLLECTOR_DB_POOL_MAX/ },
  ])('refuses $name with one line naming the variable', ({ env, message }) => {
    expect(() => loadCollectorConfig(env, '/x')).toThrow(message);
  });

  it('a bad setting is a ConfigError', () => {
    expect(() => loadCollectorConfig({ COLLECTOR_PUSH_MAX_LEAVES: 'many' }, '/x')).toThrow(ConfigError);
  });
});

describe('loadCollectorSettings: fleet anchoring', () => {
  const chains = JSON.stringify([{ name: 'local', rpcUrl: 'http://127.0.0.1:8545', chainId: 31337 }]);

  it('is off with the stub provider or none: no fleet, no secrets read', () => {
    expect(loadCollectorSettings({}, '/srv/c').config.fleet).toBeUndefined();
    const stub = loadCollectorSettings({ KEEPER_PROVIDER: 'stub', KEEPER_SIGNER_KEY: '0x01' }, '/srv/c');
    expect(stub.config.fleet).toBeUndefined();
    expect(stub.secrets.signerKey).toBeUndefined();
  });

  it('with evm: the keeper settings on the fleet database, the witness key as signer, origin <name>/fleet', () => {
    const { config, secrets } = loadCollectorSettings(
      {
        COLLECTOR_DB_URL: 'postgres://u@h:5432/collector',
        COLLECTOR_WITNESS_NAME: 'collector.example/w',
        KEEPER_PROVIDER: 'evm',
        KEEPER_CHAINS: chains,
        KEEPER_SIGNER_KEY: '0xabc',
        KEEPER_BATCH_MAX_WAIT_MS: '60000',
        FIELDPROOF_DEVICE_KEY: 'must-not-be-used',
      },
      '/srv/c',
    );
    const fleet = config.fleet!;
    expect(fleet.origin).toBe('collector.example/w/fleet');
    expect(fleet.keeper.database.target.engine).toBe('postgres');
    expect(new URL(fleet.keeper.database.target.url).searchParams.get('options')).toBe(
      '-c search_path=fleet',
    );
    expect(fleet.keeper.device).toEqual({
      keyFile: '/srv/c/fieldproof-collector-data/witness.key',
      origin: 'collector.example/w/fleet',
    });
    expect(fleet.keeper.keeper).toMatchObject({ provider: 'evm', batchMaxWaitMs: 60_000, collectors: [] });
    expect(secrets).toEqual({ signerKey: '0xabc', signerKeyFile: undefined, deviceKey: undefined });
  });

  it('SQLite: a sibling file; COLLECTOR_FLEET_DB_URL and COLLECTOR_FLEET_ORIGIN override', () => {
    const env = {
      COLLECTOR_DB_URL: 'sqlite:///var/lib/c/collector.sqlite3',
      KEEPER_PROVIDER: 'multi',
      KEEPER_CHAINS: chains,
    };
    expect(loadCollectorSettings(env, '/srv/c').config.fleet!.keeper.database.target).toMatchObject({
      engine: 'sqlite',
      path: '/var/lib/c/collector-fleet.sqlite3',
    });
    const other = loadCollectorSettings(
      { ...env, COLLECTOR_FLEET_DB_URL: 'sqlite://f.sqlite3', COLLECTOR_FLEET_ORIGIN: 'x.example/fleet' },
      '/srv/c',
    ).config.fleet!;
    expect(other.origin).toBe('x.example/fleet');
    expect(other.keeper.database.target).toMatchObject({ path: '/srv/c/f.sqlite3' });
    expect(() => loadCollectorSettings({ ...env, COLLECTOR_FLEET_ORIGIN: 'a b' }, '/srv/c')).toThrow(
      /COLLECTOR_FLEET_ORIGIN/,
    );
    expect(() => loadCollectorSettings({ ...env, KEEPER_CHAINS: '' }, '/srv/c')).toThrow(/KEEPER_PROVIDER/);
  });
});
