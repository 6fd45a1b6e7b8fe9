import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pino from 'pino';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@fieldproof/config';
import { backupArchiveName, pruneBackups } from '@fieldproof/db';
import { createMaintenance } from '@fieldproof/keeper';
import { createTestApi, randomDigest } from './support/api.js';
import type { TestApi } from './support/api.js';
import { tempDir, testEngines } from './support/databases.js';
import { runNode } from './support/processes.js';
import { FIELDPROOF_BIN } from './support/api-process.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const cli = (args: string[], env: Record<string, string | undefined>) =>
  runNode([FIELDPROOF_BIN, ...args], env);

/** A live unit: an app with its database open, three raw uploads and a digest-only record, and a key. */
async function liveUnit(engine: 'sqlite' | 'postgres' = 'sqlite') {
  const api: TestApi = await createTestApi(engine);
  const env = { API_DB_URL: api.database.target.url, FIELDPROOF_DATA_DIR: api.dataDir, LOG_LEVEL: 'silent' };
  const device = await cli(['device', '--json'], env); // creates the key file, as the keeper's first start
  expect(device.code, device.stderr).toBe(0);
  const uploads: Buffer[] = [];
  for (const size of [1, 5000, 300_000]) {
    const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + size) % 256));
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/evidence?kind=photo&occurredAt=1',
      headers: { ...api.auth.write, 'content-type': 'application/octet-stream' },
      payload: bytes,
    });
    expect(res.statusCode).toBe(201);
    uploads.push(bytes);
  }
  const digestOnly = await api.app.inject({
    method: 'POST',
    url: '/v1/evidence',
    headers: api.auth.write,
    payload: { digest: randomDigest(), kind: 'detection', occurredAt: 2 },
  });
  expect(digestOnly.statusCode).toBe(201);
  return {
    api,
    env,
    uploads,
    verifierKey: (JSON.parse(device.stdout) as { verifierKey: string }).verifierKey,
    keyFile: path.join(api.dataDir, 'device.key'),
  };
}

interface Entry {
  name: string;
  mode: number;
  data: Buffer;
}

async function readArchive(file: string): Promise<Entry[]> {
  const extract = tar.extract();
  fs.createReadStream(file).pipe(extract);
  const entries: Entry[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    entries.push({ name: entry.header.name, mode: entry.header.mode ?? 0, data: Buffer.concat(chunks) });
  }
  return entries;
}

async function writeArchive(file: string, entries: Entry[]): Promise<void> {
  const pack = tar.pack();
  const out = fs.createWriteStream(file);
  const finished = new Promise<void>((resolve, reject) =>
    out.on('finish', () => resolve()).on('error', reject),
  );
  pack.pipe(out);
  for (const e of entries) pack.entry({ name: e.name, mode: e.mode }, e.data);
  pack.finalize();
  await finished;
}

/** Every file under `dir` with its size and mtime: "nothing changed" means this is equal. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const stat = fs.statSync(path.join(dir, name));
    out[name] = stat.isDirectory()
      ? 'dir'
      : `${stat.size}:${stat.mtimeMs}:${(stat.mode & 0o777).toString(8)}`;
  }
  return out;
}

function evidenceCount(file: string): number {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    return db.prepare('SELECT count(*) FROM evidence').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('fieldproof backup: one archive of database, content and device key', () => {
  it('backs up a live unit and restores it onto an empty data folder: every content file, the key, the database', async () => {
    const unit = await liveUnit();
    let archive: string;
    try {
      archive = path.join(tempDir(), 'unit.tar');
      const backup = await cli(['backup', '--out', archive], unit.env); // the app still has the database open
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stderr).toMatch(/^backup: content 0\/3 files/m);
      expect(backup.stderr).toMatch(/^backup: done after/m);
      expect(backup.stdout).toMatch(/device key {3}INCLUDED — this archive holds the device's PRIVATE KEY/);
      expect(backup.stdout).toMatch(/content {6}3 file\(s\), 305001 bytes, SHA-256 checked/);
      expect(backup.stdout).toMatch(
        /database {5}snapshot, integrity_check ok, schema version \d+, 4 evidence records/,
      );
      expect(fs.statSync(archive).mode & 0o777).toBe(0o600);
      const entries = await readArchive(archive);
      expect(entries.map((e) => e.name)).toEqual([
        'manifest.json',
        'database.sqlite3',
        'device.key',
        ...unit.uploads
          .map((b) => sha256(b))
          .sort()
          .map((d) => `content/${d.slice(0, 2)}/${d.slice(2, 4)}/${d}`),
      ]);
      expect(entries.find((e) => e.name === 'device.key')!.mode).toBe(0o600);
    } finally {
      await unit.api.close();
    }

    const target = tempDir('fieldproof-restore-');
    const env = {
      API_DB_URL: `sqlite://${path.join(target, 'unit.sqlite3')}`,
      FIELDPROOF_DATA_DIR: path.join(target, 'data'),
      LOG_LEVEL: 'silent',
    };
    const restore = await cli(['restore', archive], env);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/every file checked against its manifest/);
    expect(restore.stdout).toMatch(/content {6}3 file\(s\) restored, 0 already in place/);
    expect(restore.stdout).toMatch(/device key {3}restored → .*device\.key \(mode 0600\)/);
    for (const bytes of unit.uploads) {
      const d = sha256(bytes);
      const file = path.join(target, 'data', 'content', d.slice(0, 2), d.slice(2, 4), d);
      expect(sha256(fs.readFileSync(file))).toBe(d);
    }
    const key = path.join(target, 'data', 'device.key');
    expect(fs.readFileSync(key)).toEqual(fs.readFileSync(unit.keyFile));
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    expect(evidenceCount(path.join(target, 'unit.sqlite3'))).toBe(4);
    expect(fs.readdirSync(path.join(target, 'data')).sort()).toEqual(['content', 'device.key']); // no staging left
    // The restored unit is the same device: same verifier key, no new identity.
    const device = await cli(['device', '--json'], env);
    expect(device.code, device.stderr).toBe(0);
    expect((JSON.parse(device.stdout) as { verifierKey: string }).verifierKey).toBe(unit.verifierKey);

    // Restoring again over itself replaces nothing but the database, which is kept aside.
    const again = await cli(['restore', archive], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 file\(s\) restored, 3 already in place/);
    expect(again.stdout).toMatch(/device key {3}already in place/);
    const replaced = fs.readdirSync(path.join(target, 'data')).find((n) => n.startsWith('replaced-'));
    expect(fs.readdirSync(path.join(target, 'data', replaced!))).toEqual(['unit.sqlite3']);
  }, 60_000);

  it('refuses a tampered archive with a clear error and changes nothing', async () => {
    const unit = await liveUnit();
    const dir = tempDir();
    const archive = path.join(dir, 'good.tar');
    try {
      expect((await cli(['backup', '--out', archive], unit.env)).code).toBe(0);
    } finally {
      await unit.api.close();
    }
    const good = await readArchive(archive);
    const contentNames = good.filter((e) => e.name.startsWith('content/')).map((e) => e.name);
    const manifest = JSON.parse(good[0]!.data.toString()) as {
      content: { sha256: string }[];
      deviceKey: { sha256: string };
    };
    const withManifest = (edit: (m: typeof manifest) => void, entries = good) => {
      const m = structuredClone(manifest);
      edit(m);
      return [{ ...entries[0]!, data: Buffer.from(JSON.stringify(m)) }, ...entries.slice(1)];
    };
    const flipped = good.map((e) =>
      e.name === contentNames[1]
        ? { ...e, data: Buffer.from(e.data.map((b, i) => (i === 7 ? b ^ 1 : b))) }
        : e,
    );
    const cases: [string, Entry[], RegExp][] = [
      ['a content byte flipped', flipped, /content\/.* hashes to [0-9a-f]{64}, the manifest says/],
      [
        'manifest edited: the device key digest',
        withManifest((m) => (m.deviceKey.sha256 = '0'.repeat(64))),
        /device\.key hashes to [0-9a-f]{64}, the manifest says 0{64}/,
      ],
      [
        'manifest edited: a content file and its entry dropped',
        withManifest(
          (m) => (m.content = m.content.slice(1)),
          good.filter((e) => e.name !== contentNames[0]),
        ),
        /the database references 3 content file\(s\), the archive holds 2/,
      ],
      [
        'a file missing',
        good.filter((e) => e.name !== contentNames[2]),
        /1 file\(s\) the manifest lists are missing, e\.g\. content\//,
      ],
      [
        'an entry the manifest does not list',
        [...good, { name: 'content/../../evil', mode: 0o644, data: Buffer.from('x') }],
        /is not listed in the manifest/,
      ],
      ['not an archive', [], /it is empty or not a tar archive/],
    ];
    const before = tree(unit.api.dataDir);
    const dbFile = unit.env.API_DB_URL.slice('sqlite://'.length);
    const dbBefore = fs.readFileSync(dbFile);
    for (const [name, entries, message] of cases) {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.tar`);
      await writeArchive(file, entries);
      const r = await cli(['restore', file], unit.env);
      expect(r.code, name).toBe(2);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(/^fieldproof: .*: refusing this archive: /);
      expect(r.stderr, name).toMatch(message);
      expect(tree(unit.api.dataDir), name).toEqual(before);
      expect(fs.readFileSync(dbFile).equals(dbBefore), name).toBe(true);
    }
    // Onto an empty place, a refused archive does not even leave the data folder behind.
    const empty = tempDir();
    const r = await cli(['restore', path.join(dir, 'a-file-missing.tar')], {
      API_DB_URL: `sqlite://${path.join(empty, 'db.sqlite3')}`,
      FIELDPROOF_DATA_DIR: path.join(empty, 'data'),
    });
    expect(r.code).toBe(2);
    expect(fs.readdirSync(empty)).toEqual([]);
  }, 60_000);

  it('--no-key leaves the key out and says so; restore says the key was not in it', async () => {
    const unit = await liveUnit();
    const archive = path.join(tempDir(), 'nokey.tar');
    try {
      const backup = await cli(['backup', '--no-key', '--out', archive], unit.env);
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toMatch(/device key {3}NOT included \(--no-key\)/);
      expect(backup.stdout).not.toMatch(/PRIVATE KEY/);
    } finally {
      await unit.api.close();
    }
    const entries = await readArchive(archive);
    expect(entries.some((e) => e.name === 'device.key')).toBe(false);
    expect(entries.some((e) => e.data.includes(fs.readFileSync(unit.keyFile)))).toBe(false);
    const target = tempDir();
    const restore = await cli(['restore', archive], {
      API_DB_URL: `sqlite://${path.join(target, 'db.sqlite3')}`,
      FIELDPROOF_DATA_DIR: path.join(target, 'data'),
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/device key {3}NOT in this archive/);
    expect(fs.existsSync(path.join(target, 'data', 'device.key'))).toBe(false);
  }, 60_000);

  it('manual and scheduled backups share one name series, so retention covers both', async () => {
    const unit = await liveUnit();
    try {
      const manual = await cli(['backup'], unit.env);
      expect(manual.code, manual.stderr).toBe(0);
      const backups = path.join(unit.api.dataDir, 'backups');
      const [manualName] = fs.readdirSync(backups);
      expect(manualName).toMatch(/^fieldproof-\d{8}T\d{6}\.\d{3}Z\.tar$/);
      // An older database-only backup from before archives belongs to the same series.
      const older = backupArchiveName(Date.now() - 86_400_000).replace(/\.tar$/, '.sqlite3');
      fs.writeFileSync(path.join(backups, older), '');
      fs.writeFileSync(path.join(backups, 'mine.tar'), '');
      const { config } = loadConfig({ ...unit.env, FIELDPROOF_BACKUP_KEEP: '2' });
      const scheduled = createMaintenance({
        database: unit.api.database,
        config,
        logger: pino({ level: 'silent' }),
        now: () => Date.now() + 60_000, // a minute after the manual one
      });
      const result = await scheduled.backup();
      expect(result.manifest.content).toHaveLength(3);
      expect(result.manifest.deviceKey).not.toBeNull();
      expect(fs.readdirSync(backups).sort()).toEqual(
        [manualName!, path.basename(result.file), 'mine.tar'].sort(),
      ); // the oldest of the series went; the operator's own file stays
      expect(await pruneBackups(backups, 1)).toEqual([path.join(backups, manualName!)]);
    } finally {
      await unit.api.close();
    }
  }, 60_000);

  it.runIf(testEngines().includes('postgres'))(
    'PostgreSQL: the archive holds content and key, and says the database needs pg_dump',
    async () => {
      const unit = await liveUnit('postgres');
      const archive = path.join(tempDir(), 'pg.tar');
      try {
        const backup = await cli(['backup', '--out', archive], unit.env);
        expect(backup.code, backup.stderr).toBe(0);
        expect(backup.stdout).toMatch(
          /database {5}NOT in this archive: PostgreSQL — back it up with pg_dump/,
        );
        expect(backup.stdout).toMatch(/content {6}3 file\(s\)/);
        const names = (await readArchive(archive)).map((e) => e.name);
        expect(names.slice(0, 2)).toEqual(['manifest.json', 'device.key']);
        expect(names).toHaveLength(5);
        const dataDir = path.join(tempDir(), 'data');
        const restore = await cli(['restore', archive], { ...unit.env, FIELDPROOF_DATA_DIR: dataDir });
        expect(restore.code, restore.stderr).toBe(0);
        expect(restore.stdout).toMatch(
          /database {5}NOT in this archive \(PostgreSQL\): restore it with pg_restore/,
        );
        expect(restore.stdout).toMatch(/3 file\(s\) restored/);
        expect(fs.readFileSync(path.join(dataDir, 'device.key'))).toEqual(fs.readFileSync(unit.keyFile));
      } finally {
        await unit.api.close();
      }
    },
    60_000,
  );
});
