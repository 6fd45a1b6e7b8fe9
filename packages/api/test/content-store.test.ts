import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '@fieldproof/api';
import { tempDir } from '../../../test/support/databases.js';

const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('ContentStore', () => {
  it('stores content under content/ab/cd/<sha256>, 0600, hashing while streaming', async () => {
    const store = new ContentStore(tempDir());
    const stored = await store.put(chunks('hello ', 'world'), 100);
    const digest = createHash('sha256').update('hello world').digest('hex');
    expect(stored).toEqual({
      digest,
      size: 11,
      path: path.join(store.root, digest.slice(0, 2), digest.slice(2, 4), digest),
    });
    expect(fs.readFileSync(stored.path, 'utf8')).toBe('hello world');
    expect(fs.statSync(stored.path).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(stored.path)).mode & 0o777).toBe(0o700);
    // The same bytes again: same file, nothing left over.
    expect((await store.put(chunks('hello world'), 100)).path).toBe(stored.path);
    expect(fs.readdirSync(path.join(store.root, '.tmp'))).toEqual([]);
  });

  it('refuses oversize, empty and mismatching content and keeps nothing', async () => {
    const store = new ContentStore(tempDir());
    await expect(store.put(chunks('12345', '67890'), 9)).rejects.toMatchObject({
      code: 'FP_PAYLOAD_TOO_LARGE',
    });
    await expect(store.put(chunks(), 9)).rejects.toMatchObject({ code: 'FP_BAD_REQUEST' });
    await expect(store.put(chunks('abc'), 9, '0'.repeat(64))).rejects.toMatchObject({
      code: 'FP_DIGEST_MISMATCH',
    });
    const files = fs
      .readdirSync(store.root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile());
    expect(files).toEqual([]);
  });

  it('removes partial uploads a crash left behind, but not recent ones', async () => {
    const store = new ContentStore(tempDir());
    await store.put(chunks('x'), 10); // creates content/.tmp
    const tmp = path.join(store.root, '.tmp');
    fs.writeFileSync(path.join(tmp, 'old'), 'partial');
    fs.writeFileSync(path.join(tmp, 'new'), 'partial');
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(path.join(tmp, 'old'), hourAgo, hourAgo);
    expect(await store.removeStaleUploads(3600_000)).toBe(1);
    expect(fs.readdirSync(tmp)).toEqual(['new']);
  });
});

describe('ContentStore durability: every acknowledged path is fsynced into its parent', () => {
  const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');
  /** A store whose folder fsyncs are recorded (when they complete), optionally delayed per folder. */
  function recordingStore(delayMs: (dir: string) => number = () => 0) {
    const dataDir = tempDir();
    const synced: string[] = [];
    const store = new ContentStore(dataDir, {
      syncFolder: async (dir) => {
        const handle = await fs.promises.open(dir, 'r');
        await handle.sync();
        await handle.close();
        const ms = delayMs(dir);
        if (ms > 0) await new Promise((r) => setTimeout(r, ms));
        synced.push(path.relative(dataDir, dir) || '.');
      },
    });
    return { dataDir, store, synced };
  }

  it('fsyncs the parents of prefix folders that already existed (made by another upload, or before a restart)', async () => {
    const { store, synced } = recordingStore();
    const text = 'made by someone else';
    const digest = digestOf(text);
    fs.mkdirSync(path.join(store.root, digest.slice(0, 2), digest.slice(2, 4)), { recursive: true });
    await store.put(chunks(text), 100);
    const ab = path.join('content', digest.slice(0, 2));
    expect(synced).toEqual(expect.arrayContaining(['.', 'content', ab, path.join(ab, digest.slice(2, 4))]));
    // Once durable, a folder is not fsynced into its parent again by this process: another upload under
    // the same content/ does not fsync the data folder, and the same bytes again fsync only ab/cd.
    synced.length = 0;
    await store.put(chunks('another prefix'), 100);
    expect(synced).not.toContain('.');
    synced.length = 0;
    await store.put(chunks(text), 100);
    expect(synced).toEqual([path.join(ab, digest.slice(2, 4))]);
  });

  it('an upload racing another into a new prefix folder is answered only after that folder is durable', async () => {
    // Upload A creates content/ab and content/ab/cd; its fsync of content/ (making ab durable) is slow.
    // Upload B, into the same prefix, finds the folders there and must not be answered before content/
    // has been fsynced since ab was made.
    const text = 'racing uploads';
    const digest = digestOf(text);
    let slowOnce = true;
    const { store, synced } = recordingStore((dir) => {
      if (path.basename(dir) === 'content' && slowOnce) {
        slowOnce = false;
        return 300;
      }
      return 0;
    });
    fs.mkdirSync(path.join(store.root, '.tmp'), { recursive: true });
    const a = store.put(chunks(text), 100);
    // Let A create content/ab (its fsync of content/ is under way), then start B.
    const ab = path.join(store.root, digest.slice(0, 2));
    while (!fs.existsSync(ab)) await new Promise((r) => setImmediate(r));
    const b = store.put(chunks(text), 100).then(() => [...synced]);
    const syncedWhenBAnswered = await b;
    expect(syncedWhenBAnswered).toContain('content');
    expect(syncedWhenBAnswered).toContain(path.join('content', digest.slice(0, 2)));
    await a;
  });
});
