import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeviceKeyError,
  InsecureKeyFileError,
  MalformedKeyError,
  deviceKeyFromSeed,
  deviceKeyFromSignerKey,
  generateDeviceKey,
  loadDeviceKey,
  loadOrCreateDeviceKey,
  openNote,
  signNote,
} from '../src/index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fieldproof-note-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const NAME = 'device.example/unit-7';
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('loadOrCreateDeviceKey', () => {
  it('creates missing folders 0700 and the key file 0600, in the signer key form', async () => {
    const path = join(root, 'create', 'nested', 'device.key');
    const key = await loadOrCreateDeviceKey(path, { name: NAME });
    expect(await modeOf(join(root, 'create'))).toBe(0o700);
    expect(await modeOf(join(root, 'create', 'nested'))).toBe(0o700);
    expect(await modeOf(path)).toBe(0o600);
    const content = await readFile(path, 'utf8');
    expect(content).toMatch(/^PRIVATE\+KEY\+device\.example\/unit-7\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/);
    expect(deviceKeyFromSignerKey(content).verifierKey).toBe(key.verifierKey);
    expect(await readdir(join(root, 'create', 'nested'))).toEqual(['device.key']);
  });

  it('loads the same key on the next start', async () => {
    const path = join(root, 'reload', 'device.key');
    const first = await loadOrCreateDeviceKey(path, { name: NAME });
    const second = await loadOrCreateDeviceKey(path, { name: NAME });
    const third = await loadDeviceKey(path);
    expect(second.verifierKey).toBe(first.verifierKey);
    expect(third.verifierKey).toBe(first.verifierKey);
    const note = signNote('hello\n', second);
    expect(openNote(note, first.verifierKey).text).toBe('hello\n');
  });

  it('leaves an existing folder mode alone', async () => {
    const folder = join(root, 'existing');
    await mkdir(folder, { mode: 0o755 });
    await chmod(folder, 0o755);
    await loadOrCreateDeviceKey(join(folder, 'device.key'), { name: NAME });
    expect(await modeOf(folder)).toBe(0o755);
  });

  it('gives racing creators one and the same key', async () => {
    const path = join(root, 'race', 'device.key');
    const keys = await Promise.all(
      Array.from({ length: 8 }, () => loadOrCreateDeviceKey(path, { name: NAME })),
    );
    expect(new Set(keys.map((k) => k.verifierKey)).size).toBe(1);
    expect(await readdir(join(root, 'race'))).toEqual(['device.key']);
  });

  it.each([0o640, 0o604, 0o620, 0o602, 0o660, 0o644, 0o610, 0o601, 0o700 | 0o070])(
    'refuses a key file with mode %s',
    async (mode) => {
      const path = join(root, `mode-${mode.toString(8)}`, 'device.key');
      await loadOrCreateDeviceKey(path, { name: NAME });
      await chmod(path, mode);
      const load = loadOrCreateDeviceKey(path, { name: NAME });
      await expect(load).rejects.toThrow(InsecureKeyFileError);
      await expect(load).rejects.toThrow(/chmod 600/);
      await expect(loadDeviceKey(path)).rejects.toMatchObject({ mode, path });
      await chmod(path, 0o600);
      await expect(loadDeviceKey(path)).resolves.toBeDefined();
    },
  );

  it('accepts 0400 (owner read only)', async () => {
    const path = join(root, 'readonly', 'device.key');
    const key = await loadOrCreateDeviceKey(path, { name: NAME });
    await chmod(path, 0o400);
    expect((await loadOrCreateDeviceKey(path, { name: NAME })).verifierKey).toBe(key.verifierKey);
  });

  it('refuses a key file held under another name', async () => {
    const path = join(root, 'renamed', 'device.key');
    await loadOrCreateDeviceKey(path, { name: NAME });
    await expect(loadOrCreateDeviceKey(path, { name: 'other.example/unit' })).rejects.toThrow(
      /holds the key named "device.example\/unit-7", but the configured name is "other.example\/unit"/,
    );
  });

  it('refuses a malformed key file without echoing its content', async () => {
    const folder = join(root, 'malformed');
    await mkdir(folder);
    const path = join(folder, 'device.key');
    await writeFile(path, 'PRIVATE+KEY+x+00000000+c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==\n', {
      mode: 0o600,
    });
    const load = loadDeviceKey(path);
    await expect(load).rejects.toThrow(DeviceKeyError);
    await expect(load).rejects.not.toThrow(/c2VjcmV0/);
  });

  it('refuses a folder in place of the file, and a missing file when only loading', async () => {
    await mkdir(join(root, 'dir.key'), { mode: 0o700 });
    await expect(loadOrCreateDeviceKey(join(root, 'dir.key'), { name: NAME })).rejects.toThrow(
      /not a regular file/,
    );
    await expect(loadDeviceKey(join(root, 'missing.key'))).rejects.toThrow(/does not exist/);
  });

  it('refuses an invalid name before writing anything', async () => {
    const path = join(root, 'badname', 'device.key');
    await expect(loadOrCreateDeviceKey(path, { name: 'has space' })).rejects.toThrow(MalformedKeyError);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('DeviceKey', () => {
  // RFC 8032 §7.1 TEST 1: the seed, its public key, and the signature of the empty message.
  const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
  const PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
  const SIGNATURE =
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

  it('is RFC 8032 Ed25519', () => {
    const key = deviceKeyFromSeed(SEED, NAME);
    expect(Buffer.from(key.publicKey).toString('hex')).toBe(PUBLIC);
    expect(Buffer.from(key.sign(new Uint8Array())).toString('hex')).toBe(SIGNATURE);
  });

  it('never prints its private key', () => {
    const key = deviceKeyFromSeed(SEED, NAME);
    const secrets = [SEED.toString('hex'), SEED.toString('base64').slice(0, 20), 'PRIVATE'];
    const renderings = [
      String(key),
      JSON.stringify(key),
      JSON.stringify({ key }),
      inspect(key),
      inspect(key, { showHidden: true, depth: 10 }),
      inspect({ nested: [key] }, { showHidden: true, depth: 10 }),
      JSON.stringify(Object.entries(key)),
    ];
    for (const text of renderings) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text === '[]' || text.includes(key.verifierKey) || text.includes(NAME)).toBe(true);
    }
    expect(JSON.parse(JSON.stringify(key))).toEqual({
      name: NAME,
      keyId: key.keyId.toString(16).padStart(8, '0'),
      verifierKey: key.verifierKey,
    });
  });

  it('refuses a seed of the wrong size and invalid names', () => {
    expect(() => deviceKeyFromSeed(SEED.subarray(1), NAME)).toThrow(MalformedKeyError);
    expect(() => deviceKeyFromSeed(SEED, 'a+b')).toThrow(MalformedKeyError);
    expect(() => generateDeviceKey('')).toThrow(MalformedKeyError);
  });

  it('does not keep a reference to the caller seed', () => {
    const seed = Buffer.from(SEED);
    const key = deviceKeyFromSeed(seed, NAME);
    seed.fill(7);
    expect(Buffer.from(key.sign(new Uint8Array())).toString('hex')).toBe(SIGNATURE);
  });
});
