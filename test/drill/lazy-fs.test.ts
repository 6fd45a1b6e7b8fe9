import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../support/databases.js';
import { runNode } from '../support/processes.js';
import { lazyFsUnavailable, mountLazyFs, type LazyFs } from './lazy-fs.js';

/**
 * The power-loss layer on its own, on a real FUSE mount: it keeps exactly what was fsynced, drops the
 * rest at a cut, and so catches a commit that was acknowledged without being durable.
 */
const unavailable = lazyFsUnavailable();
if (unavailable !== undefined)
  console.log(`\n[fieldproof] the power-loss layer tests are SKIPPED: ${unavailable}\n`);

const SQLITE_CHILD = fileURLToPath(new URL('./sqlite-commit-child.mjs', import.meta.url));
const mounted: { layer: LazyFs; dir: string }[] = [];

async function freshLayer(): Promise<LazyFs> {
  const dir = tempDir('fieldproof-lazyfs-');
  const layer = await mountLazyFs({ backing: path.join(dir, 'backing'), mountPoint: path.join(dir, 'mnt') });
  mounted.push({ layer, dir });
  return layer;
}

/** Writes `text` to a new or existing file, optionally fsyncing it; the file is closed either way. */
function writeFile(file: string, text: string, options: { fsync: boolean }): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, text);
    if (options.fsync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function read(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

afterEach(async () => {
  for (const { layer, dir } of mounted.splice(0)) {
    await layer.unmount();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe.skipIf(unavailable !== undefined)('the power-loss layer (FUSE, LazyFS model)', () => {
  it('a write without fsync is gone after a cut; one with fsync survives', async () => {
    const layer = await freshLayer();
    const dir = layer.mountPoint;
    writeFile(path.join(dir, 'kept'), 'v1', { fsync: true });
    writeFile(path.join(dir, 'lost'), 'v1', { fsync: true });
    fsyncDir(dir);
    writeFile(path.join(dir, 'kept'), 'v2 fsynced', { fsync: true });
    writeFile(path.join(dir, 'lost'), 'v2 never fsynced', { fsync: false });
    expect(read(path.join(dir, 'lost'))).toBe('v2 never fsynced'); // visible until the cut

    await layer.powerCut();

    expect(read(path.join(dir, 'kept'))).toBe('v2 fsynced');
    expect(read(path.join(dir, 'lost'))).toBe('v1');
  });

  it('a new name is durable only once its directory is fsynced (the data, only once the file is)', async () => {
    const layer = await freshLayer();
    const dir = layer.mountPoint;
    writeFile(path.join(dir, 'file-fsynced-dir-not'), 'data', { fsync: true });
    await layer.powerCut();
    expect(fs.readdirSync(dir)).toEqual([]);

    writeFile(path.join(dir, 'both-fsynced'), 'data', { fsync: true });
    writeFile(path.join(dir, 'dir-fsynced-file-not'), 'data', { fsync: false });
    fsyncDir(dir);
    await layer.powerCut();
    expect(read(path.join(dir, 'both-fsynced'))).toBe('data');
    expect(read(path.join(dir, 'dir-fsynced-file-not'))).toBe(''); // the name survived, the data did not
  });

  it('a rename without a directory fsync is undone at a cut (the policy); with one it is kept', async () => {
    const layer = await freshLayer();
    const dir = layer.mountPoint;
    writeFile(path.join(dir, 'a.tmp'), 'A', { fsync: true });
    writeFile(path.join(dir, 'b.tmp'), 'B', { fsync: true });
    fsyncDir(dir);
    fs.renameSync(path.join(dir, 'a.tmp'), path.join(dir, 'a'));
    fs.renameSync(path.join(dir, 'b.tmp'), path.join(dir, 'b'));
    fsyncDir(dir); // both renames are now durable
    fs.renameSync(path.join(dir, 'a'), path.join(dir, 'a.renamed-later'));
    fs.unlinkSync(path.join(dir, 'b'));

    await layer.powerCut();

    expect(fs.readdirSync(dir).sort()).toEqual(['a', 'b']);
    expect(read(path.join(dir, 'a'))).toBe('A');
    expect(read(path.join(dir, 'b'))).toBe('B');
  });

  it('hard links work, so a file can be published with link() as well as with rename()', async () => {
    const layer = await freshLayer();
    const dir = layer.mountPoint;
    writeFile(path.join(dir, 'tmp'), 'key', { fsync: true });
    fs.linkSync(path.join(dir, 'tmp'), path.join(dir, 'key'));
    fs.unlinkSync(path.join(dir, 'tmp'));
    fsyncDir(dir);
    await layer.powerCut();
    expect(fs.readdirSync(dir)).toEqual(['key']);
    expect(read(path.join(dir, 'key'))).toBe('key');
  });

  it.each([
    { synchronous: 'FULL', survives: true },
    { synchronous: 'OFF', survives: false },
  ])(
    'SQLite in WAL mode at $synchronous: a committed transaction survives a cut: $survives',
    async ({ synchronous, survives }) => {
      const layer = await freshLayer();
      const db = path.join(layer.mountPoint, 'test.sqlite3');
      const setup = await runNode([SQLITE_CHILD], { DB: db, SYNCHRONOUS: synchronous, SETUP: '1' });
      expect(setup.code, setup.stderr).toBe(0);
      await layer.sync(); // the empty table is on disk, as after an orderly boot

      const writer = spawn(process.execPath, [SQLITE_CHILD], {
        env: { ...process.env, DB: db, SYNCHRONOUS: synchronous },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        writer.stdout.on('data', (d: Buffer) => d.toString().includes('committed') && resolve());
        writer.once('exit', (code) => reject(new Error(`the writer exited (${code}) before committing`)));
      });
      await layer.powerCut([writer]);

      const reopened = new Database(db);
      try {
        expect(reopened.pragma('integrity_check', { simple: true })).toBe('ok');
        const rows = reopened.prepare('SELECT count(*) AS n FROM t').get() as { n: number };
        expect(rows.n).toBe(survives ? 1 : 0);
      } finally {
        reopened.close();
      }
    },
  );
});
