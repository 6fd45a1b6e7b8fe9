import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '@fieldproof/config';
import { createCosigner, generateDeviceKey } from '@fieldproof/note';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/databases.js';

describe('KEEPER_COLLECTORS', () => {
  const witnessKey = createCosigner(generateDeviceKey('collector.test/witness')).verifierKey;

  function keyFile(mode: number): string {
    const file = path.join(tempDir(), 'push.key');
    fs.writeFileSync(file, 'fp_secret\n', { mode });
    fs.chmodSync(file, mode);
    return file;
  }

  const collector = (over: Record<string, unknown> = {}) => ({
    name: 'fleet',
    url: 'https://collector.example:8082/',
    apiKeyFile: keyFile(0o600),
    witnessKey,
    ...over,
  });

  function refusal(value: string, cwd = '/'): string {
    try {
      loadConfig({ KEEPER_COLLECTORS: value }, cwd);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  }

  it('is empty by default, reads the array inline and from @file', () => {
    expect(loadConfig({}, '/').config.keeper.collectors).toEqual([]);
    const c = collector();
    const inline = loadConfig({ KEEPER_COLLECTORS: JSON.stringify([c]) }, '/').config.keeper.collectors;
    expect(inline).toEqual([{ ...c, url: 'https://collector.example:8082' }]);
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'collectors.json'), JSON.stringify([c, { ...c, name: 'backup' }]));
    const fromFile = loadConfig({ KEEPER_COLLECTORS: '@collectors.json' }, dir).config.keeper.collectors;
    expect(fromFile.map((x) => x.name)).toEqual(['fleet', 'backup']);
  });

  it('refuses a malformed array, unknown fields, bad names, URLs and duplicate names', () => {
    expect(refusal('[{')).toMatch(/KEEPER_COLLECTORS.*not valid JSON/);
    expect(refusal('{}')).toMatch(/must be a JSON array/);
    expect(refusal(JSON.stringify([collector({ extra: 1 })]))).toMatch(/unknown field "extra"/);
    expect(refusal(JSON.stringify([collector({ name: 'Fleet!' })]))).toMatch(/name must be/);
    expect(refusal(JSON.stringify([collector({ url: 'ftp://x' })]))).toMatch(/url must be/);
    expect(refusal(JSON.stringify([collector(), collector()]))).toMatch(/appears twice/);
    expect(refusal('@missing.json', tempDir())).toMatch(/cannot read/);
  });

  it('refuses a push key file that is missing or readable by group or others (0600 like the signer key)', () => {
    expect(refusal(JSON.stringify([collector({ apiKeyFile: '/nonexistent/push.key' })]))).toMatch(
      /apiKeyFile: cannot read/,
    );
    expect(refusal(JSON.stringify([collector({ apiKeyFile: keyFile(0o640) })]))).toMatch(
      /readable by group or others \(mode 0640\)/,
    );
  });

  it('refuses a witnessKey that is not a cosignature verifier key (a device key is not one)', () => {
    expect(refusal(JSON.stringify([collector({ witnessKey: 'nonsense' })]))).toMatch(
      /witnessKey is not a cosignature verifier key/,
    );
    const deviceVkey = generateDeviceKey('unit').verifierKey;
    expect(refusal(JSON.stringify([collector({ witnessKey: deviceVkey })]))).toMatch(/witnessKey/);
  });
});

describe('fleetKey and KEEPER_PROVIDER=collector', () => {
  const witnessKey = createCosigner(generateDeviceKey('collector.test/witness')).verifierKey;
  const fleetKey = generateDeviceKey('collector.test/fleet').verifierKey;
  const file = path.join(tempDir(), 'push.key');
  fs.writeFileSync(file, 'fp_secret\n', { mode: 0o600 });
  const entry = (over: Record<string, unknown> = {}) => ({
    name: 'fleet',
    url: 'https://collector.example:8082',
    apiKeyFile: file,
    witnessKey,
    ...over,
  });
  const load = (env: Record<string, string>) => loadConfig(env, '/').config.keeper;

  it('takes an optional fleetKey, a note verifier key; refuses anything else', () => {
    expect(load({ KEEPER_COLLECTORS: JSON.stringify([entry()]) }).collectors[0]!.fleetKey).toBeUndefined();
    expect(load({ KEEPER_COLLECTORS: JSON.stringify([entry({ fleetKey })]) }).collectors[0]!.fleetKey).toBe(
      fleetKey,
    );
    expect(() => load({ KEEPER_COLLECTORS: JSON.stringify([entry({ fleetKey: 'nonsense' })]) })).toThrow(
      /KEEPER_COLLECTORS\[0\].*fleetKey is not a note verifier key/,
    );
    // A cosignature key (type 0x04) is the witnessKey, not a fleet key.
    expect(() => load({ KEEPER_COLLECTORS: JSON.stringify([entry({ fleetKey: witnessKey })]) })).toThrow(
      /fleetKey is not a note verifier key/,
    );
    expect(() => load({ KEEPER_COLLECTORS: JSON.stringify([entry({ fleetKey: 7 })]) })).toThrow(
      /fleetKey must be/,
    );
  });

  it('KEEPER_PROVIDER=collector needs a collector with a fleetKey, and no chain', () => {
    const refused = (env: Record<string, string>) => {
      try {
        load(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ KEEPER_PROVIDER: 'collector' })).toBe(
      'KEEPER_PROVIDER: "collector" needs a KEEPER_COLLECTORS entry with a "fleetKey" (the collector\'s fleet key, printed by fieldproof collector-key)',
    );
    expect(refused({ KEEPER_PROVIDER: 'collector', KEEPER_COLLECTORS: JSON.stringify([entry()]) })).toMatch(
      /needs a KEEPER_COLLECTORS entry with a "fleetKey"/,
    );
    const keeper = load({
      KEEPER_PROVIDER: 'collector',
      KEEPER_COLLECTORS: JSON.stringify([entry({ fleetKey })]),
      KEEPER_CHAINS: JSON.stringify([{ name: 'x', rpcUrl: 'http://127.0.0.1:1', chainId: 1 }]),
    });
    expect(keeper.provider).toBe('collector');
    expect(keeper.chains).toEqual([]);
  });
});
