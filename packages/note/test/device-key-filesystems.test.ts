import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKey, loadDeviceKey, loadOrCreateDeviceKey } from '../src/index.js';
import { mountExfat } from '../../../test/support/exfat.js';
import { runNode } from '../../../test/support/processes.js';
import type { ProcessResult } from '../../../test/support/processes.js';

// Creating the device key on the file systems field units keep data on. exFAT (the USB sticks; FUSE
// layers likewise) has no hard links: the key used to be linked into place, and the fallback for file
// systems without links exposed a half-written file to a racing process.

const CHILD = fileURLToPath(new URL('../../../test/support/device-key-child.mjs', import.meta.url));
const NAME = 'device.example/unit-7';

const exfat = mountExfat();
afterAll(() => {
  if ('dir' in exfat) exfat.unmount();
});
if ('reason' in exfat) console.warn(`device key on exFAT: skipped, ${exfat.reason}`);

const places = [
  { fs: 'the temp folder', root: undefined as string | undefined },
  { fs: 'exFAT (no hard links)', root: 'dir' in exfat ? exfat.dir : undefined },
];

describe.each(places)('the device key on $fs', ({ fs, root: mounted }) => {
  const skip = fs.startsWith('exFAT') && mounted === undefined;
  let root: string;
  beforeAll(async () => {
    root = mounted ?? (await mkdtemp(join(tmpdir(), 'fieldproof-note-fs-')));
  });
  afterAll(async () => {
    if (mounted === undefined && root !== undefined) await rm(root, { recursive: true, force: true });
  });
  let n = 0;
  const folder = async () => {
    const dir = join(root, `case-${n++}`);
    await mkdir(dir);
    return dir;
  };

  it.skipIf(skip)('is created, loaded again, and alone in its folder', async () => {
    const dir = await folder();
    const key = await loadOrCreateDeviceKey(join(dir, 'device.key'), { name: NAME });
    expect((await loadOrCreateDeviceKey(join(dir, 'device.key'), { name: NAME })).verifierKey).toBe(
      key.verifierKey,
    );
    expect((await loadDeviceKey(join(dir, 'device.key'))).verifierKey).toBe(key.verifierKey);
    expect(await readdir(dir)).toEqual(['device.key']);
  });

  it.skipIf(skip)(
    'racing creators in one process: one key, never a half-written file',
    async () => {
      for (let round = 0; round < 15; round++) {
        const dir = await folder();
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () => loadOrCreateDeviceKey(join(dir, 'device.key'), { name: NAME })),
        );
        const failed = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
        expect(failed, `round ${round}`).toEqual([]);
        const keys = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.verifierKey] : []));
        expect(new Set(keys).size).toBe(1);
        expect((await loadDeviceKey(join(dir, 'device.key'))).verifierKey).toBe(keys[0]);
        expect(await readdir(dir)).toEqual(['device.key']);
      }
    },
    120_000,
  );

  it.skipIf(skip)(
    'racing processes: each ends up with the one key in the file',
    async () => {
      for (let round = 0; round < 2; round++) {
        const dir = await folder();
        const startAt = Date.now() + 500;
        const results = await Promise.all(
          Array.from({ length: 4 }, () =>
            runNode([CHILD], {
              KEY_PATH: join(dir, 'device.key'),
              KEY_NAME: NAME,
              START_AT: String(startAt),
            }),
          ),
        );
        for (const r of results) expect(r.code, r.stderr).toBe(0);
        const keys = results.map((r) => (JSON.parse(r.stdout) as { verifierKey: string }).verifierKey);
        expect(new Set(keys).size).toBe(1);
        expect((await loadDeviceKey(join(dir, 'device.key'))).verifierKey).toBe(keys[0]);
        expect(await readdir(dir)).toEqual(['device.key']);
      }
    },
    120_000,
  );

  it.skipIf(skip)(
    'a reader never sees a half-written key file while another process creates it',
    async () => {
      const complete = /^PRIVATE\+KEY\+[^+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/;
      const partial: string[] = [];
      for (let round = 0; round < 6; round++) {
        const file = join(await folder(), 'device.key');
        const child: Promise<ProcessResult> = runNode([CHILD], { KEY_PATH: file, KEY_NAME: NAME });
        // Spin on the name until a whole key is there (the child process writes it meanwhile).
        const until = Date.now() + 20_000;
        for (;;) {
          let text: string | undefined;
          try {
            text = readFileSync(file, 'utf8');
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
          if (text !== undefined && complete.test(text)) break;
          if (text !== undefined) partial.push(`round ${round}: ${JSON.stringify(text.slice(0, 12))}`);
          if (Date.now() > until) break;
        }
        const result = await child;
        expect(result.code, result.stderr).toBe(0);
      }
      expect(partial).toEqual([]);
    },
    120_000,
  );

  it.skipIf(skip)(
    'after a crash while creating, adopts the complete claim and removes what was left',
    async () => {
      const dir = await folder();
      const left = generateDeviceKey(NAME);
      const claimed = await createSignerKeyFile(join(dir, 'device.key.creating'), 'key');
      const temporary = await createSignerKeyFile(join(dir, 'device.key.4242.0123456789ab.tmp'), 'key');
      await writeFile(join(dir, 'device.key.4243.0123456789ab.tmp'), 'half', { mode: 0o600 });
      const key = await loadOrCreateDeviceKey(join(dir, 'device.key'), { name: NAME });
      expect(key.verifierKey).toBe(claimed.verifierKey);
      expect(key.verifierKey).not.toBe(temporary.verifierKey);
      expect(key.verifierKey).not.toBe(left.verifierKey);
      expect(await readdir(dir)).toEqual(['device.key']);
    },
  );

  it.skipIf(skip)('never replaces a key file that exists; a stale claim beside it is removed', async () => {
    const dir = await folder();
    const existing = await loadOrCreateDeviceKey(join(dir, 'device.key'), { name: NAME });
    const before = await readFile(join(dir, 'device.key'), 'utf8');
    await createSignerKeyFile(join(dir, 'device.key.creating'), 'key');
    const key = await loadOrCreateDeviceKey(join(dir, 'device.key'), { name: NAME });
    expect(key.verifierKey).toBe(existing.verifierKey);
    expect(await readFile(join(dir, 'device.key'), 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['device.key']);
  });
});

/** A complete key file `name` in a new folder `dir` (0700/0600), as creation leaves it; returns its key. */
async function createSignerKeyFile(dir: string, name: string) {
  await mkdir(dir, { mode: 0o700 });
  const probe = join(dir, 'probe');
  const key = await loadOrCreateDeviceKey(join(probe, 'device.key'), { name: NAME });
  await writeFile(join(dir, name), await readFile(join(probe, 'device.key')), { mode: 0o600 });
  await rm(probe, { recursive: true, force: true });
  return key;
}
