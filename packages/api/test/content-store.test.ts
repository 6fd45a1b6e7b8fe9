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
