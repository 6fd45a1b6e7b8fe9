import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LOG_META, getLogMeta } from '@fieldproof/db';
import { InsecureKeyFileError, openCheckpoint, parseVerifierKey } from '@fieldproof/note';
import {
  DEFAULT_KEY_NAME,
  DeviceIdentityError,
  createSequencer,
  defaultOrigin,
  openDeviceIdentity,
} from '@fieldproof/keeper';
import { createTestDatabase, tempDir, testEngines } from '../../../test/support/databases.js';
import { addEvidence, drain, testConfig, testDeps } from './support.js';

describe.each(testEngines())('device identity on %s', (engine) => {
  it('creates a 0600 key on first start, derives the origin from it, and fixes both in log_meta', async () => {
    const database = await createTestDatabase(engine);
    try {
      const { config, secrets } = testConfig();
      const first = await openDeviceIdentity({ database, config, secrets, now: Date.now });
      expect(first.source).toEqual({ kind: 'file', path: config.device.keyFile, created: true });
      expect(fs.statSync(config.device.keyFile).mode & 0o777).toBe(0o600);
      expect(first.origin).toBe(defaultOrigin(first.key.publicKey));
      expect(first.origin).toMatch(/^fieldproof\.local\/log\/[0-9a-f]{16}$/);
      expect(first.key.name).toBe(DEFAULT_KEY_NAME);
      expect(await getLogMeta(database.db, LOG_META.origin)).toBe(first.origin);
      expect(await getLogMeta(database.db, LOG_META.verifierKey)).toBe(first.verifierKey);
      expect(parseVerifierKey(first.verifierKey).publicKey).toEqual(first.key.publicKey);

      const again = await openDeviceIdentity({ database, config, secrets, now: Date.now });
      expect(again.source).toEqual({ kind: 'file', path: config.device.keyFile, created: false });
      expect(again.verifierKey).toBe(first.verifierKey);
      expect(again.origin).toBe(first.origin);
      // Logging the identity (JSON or inspect) never shows the private key.
      const secret = fs.readFileSync(config.device.keyFile, 'utf8').trim().split('+').slice(4).join('+');
      expect(secret).toMatch(/^[A-Za-z0-9+/]{44}$/);
      expect(JSON.stringify(again)).not.toContain(secret);
      expect(inspect(again, { depth: 5 })).not.toContain(secret);
    } finally {
      await database.close();
    }
  });

  it('names a new key after the configured origin', async () => {
    const database = await createTestDatabase(engine);
    try {
      const { config, secrets } = testConfig({ FIELDPROOF_LOG_ORIGIN: 'example.com/log/unit-7' });
      const identity = await openDeviceIdentity({ database, config, secrets, now: Date.now });
      expect(identity.origin).toBe('example.com/log/unit-7');
      expect(identity.key.name).toBe('example.com/log/unit-7');
    } finally {
      await database.close();
    }
  });

  it('refuses a key file group or others can read (mode 0640)', async () => {
    const database = await createTestDatabase(engine);
    try {
      const { config, secrets } = testConfig();
      await openDeviceIdentity({ database, config, secrets, now: Date.now });
      fs.chmodSync(config.device.keyFile, 0o640);
      const refusal = openDeviceIdentity({ database, config, secrets, now: Date.now });
      await expect(refusal).rejects.toBeInstanceOf(InsecureKeyFileError);
      await expect(refusal).rejects.toThrow(/0640.*chmod 600/);
    } finally {
      await database.close();
    }
  });

  it('refuses to start when the configured origin differs from the log’s', async () => {
    const database = await createTestDatabase(engine);
    try {
      const dir = tempDir();
      const env = { FIELDPROOF_DEVICE_KEY_FILE: path.join(dir, 'device.key') };
      const a = testConfig({ ...env, FIELDPROOF_LOG_ORIGIN: 'example.com/log/a' });
      await openDeviceIdentity({ database, ...a, now: Date.now });
      const b = testConfig({ ...env, FIELDPROOF_LOG_ORIGIN: 'example.com/log/b' });
      await expect(openDeviceIdentity({ database, ...b, now: Date.now })).rejects.toThrow(
        /origin "example\.com\/log\/b" differs from this log's origin "example\.com\/log\/a".*must not fork/,
      );
    } finally {
      await database.close();
    }
  });

  it('refuses another key, and a missing key file once the log has a key', async () => {
    const database = await createTestDatabase(engine);
    try {
      const first = testConfig();
      const identity = await openDeviceIdentity({ database, ...first, now: Date.now });

      const other = testConfig(); // another data folder: a brand-new key file would be created …
      const missing = openDeviceIdentity({ database, ...other, now: Date.now });
      await expect(missing).rejects.toBeInstanceOf(DeviceIdentityError);
      await expect(missing).rejects.toThrow(/does not exist, but this log was started with device key/);
      expect(fs.existsSync(other.config.device.keyFile)).toBe(false); // … but none was

      const seed = testConfig({ FIELDPROOF_DEVICE_KEY: 'ab'.repeat(32) });
      await expect(openDeviceIdentity({ database, ...seed, now: Date.now })).rejects.toThrow(
        /device key .* differs from this log's key/,
      );
      expect(identity.source.kind).toBe('file');
    } finally {
      await database.close();
    }
  });

  it('takes the key from the secret-store variable (seed hex or PRIVATE+KEY line)', async () => {
    const database = await createTestDatabase(engine);
    try {
      const seedHex = '11'.repeat(32);
      const a = testConfig({ FIELDPROOF_DEVICE_KEY: seedHex });
      const fromSeed = await openDeviceIdentity({ database, ...a, now: Date.now });
      expect(fromSeed.source).toEqual({ kind: 'secret' });
      expect(fs.existsSync(a.config.device.keyFile)).toBe(false);
      const again = await openDeviceIdentity({
        database,
        ...testConfig({ FIELDPROOF_DEVICE_KEY: seedHex }),
        now: Date.now,
      });
      expect(again.verifierKey).toBe(fromSeed.verifierKey);

      const bad = testConfig({ FIELDPROOF_DEVICE_KEY: 'not a key' });
      await expect(openDeviceIdentity({ database, ...bad, now: Date.now })).rejects.toThrow(
        /FIELDPROOF_DEVICE_KEY must be/,
      );
    } finally {
      await database.close();
    }
  });

  it('refuses when the latest checkpoint was not signed by the key (log_meta tampered)', async () => {
    const database = await createTestDatabase(engine);
    try {
      const a = testConfig({ FIELDPROOF_DEVICE_KEY: '22'.repeat(32) });
      const identity = await openDeviceIdentity({ database, ...a, now: Date.now });
      await addEvidence(database, 2);
      await drain(createSequencer(testDeps(database), identity));
      const note = (
        await database.db.selectFrom('log_checkpoints').select('signed_note').executeTakeFirstOrThrow()
      ).signed_note;
      expect(openCheckpoint(note, identity.verifierKey).checkpoint.treeSize).toBe(2);
      const b = testConfig({ FIELDPROOF_DEVICE_KEY: '33'.repeat(32) });
      await database.db.deleteFrom('log_meta').execute();
      await expect(openDeviceIdentity({ database, ...b, now: Date.now })).rejects.toThrow(
        /latest checkpoint .* was not signed by device key/,
      );
    } finally {
      await database.close();
    }
  });
});
