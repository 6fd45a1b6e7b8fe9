// `node bench/migration-0007.mjs [records]` (after npm run build): migration 0007 on a SQLite unit of
// `records` evidence records (default 1 000 000) in use under 0006 — all but the newest 1 000 sequenced,
// those still in sequence_queue. Reports the migration's time and the disk it needed (main file and WAL
// before and after), SIGKILLs a second copy while it migrates and restarts it, then checks that receipts
// issued before the migration verify after it and that the keeper sequences the rest exactly once.
// Everything lives in a temporary folder removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@fieldproof/config';
import {
  DEFAULT_MIGRATIONS_DIR,
  SEQUENCE_ROWID_BASE,
  countQueuedEvidence,
  createDatabase,
  getLogMeta,
  migrate,
  newId,
  openSqlite,
} from '@fieldproof/db';
import { createSequencer, openDeviceIdentity } from '@fieldproof/keeper';
import { receiptFor } from '@fieldproof/proofs';
import { verifyReceiptOffline } from '@fieldproof/receipt';
import { pino } from 'pino';
import { Registry } from 'prom-client';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
const UNSEQUENCED = 1_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldproof-0007-'));
const DB_DIST = fileURLToPath(new URL('../packages/db/dist/index.js', import.meta.url));
// Opens the database, says so on stdout, then migrates: the parent kills it a few ms after that line.
const MIGRATE_CHILD = `import { createDatabase, migrate, resolveDatabaseUrl } from ${JSON.stringify(DB_DIST)};
const database = createDatabase(resolveDatabaseUrl(process.env));
await database.rawQuery('SELECT 1');
process.stdout.write('migrating\\n');
await migrate(database);
await database.close();`;
const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const sizeOf = (f) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
const files = (db) => ({ main: sizeOf(db), wal: sizeOf(`${db}-wal`) });
const MB = 2 ** 20;

const upTo6 = path.join(dir, 'migrations-0006');
fs.mkdirSync(upTo6);
for (const f of fs.readdirSync(DEFAULT_MIGRATIONS_DIR)) {
  const v = /^(\d{4})_.*\.sql$/.exec(f)?.[1];
  if (v !== undefined && Number(v) <= 6)
    fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, f), path.join(upTo6, f));
}

function deps(file) {
  const env = {
    API_DB_URL: `sqlite://${file}`,
    FIELDPROOF_DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: 'silent',
    KEEPER_HTTP_PORT: '0',
  };
  const { config, secrets } = loadConfig(env, dir);
  const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
  return {
    database,
    config,
    secrets,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    now: Date.now,
  };
}

try {
  // 1. A unit under 0006: evidence + queue rows (the api's rows then), sequenced by the keeper but the last 1 000.
  const fileA = path.join(dir, 'a.sqlite3');
  let d = deps(fileA);
  await migrate(d.database, { dir: upTo6 });
  const device = await openDeviceIdentity(d);
  await d.database.close();
  const raw = openSqlite(fileA, { busyTimeoutMs: 5_000, synchronous: 'NORMAL' });
  const ev = raw.prepare(
    'INSERT INTO evidence (id, digest, kind, source, occurred_at, received_at, payload_mime, payload_size, payload_json, metadata, content_stored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const q = raw.prepare('INSERT INTO sequence_queue (evidence_id, enqueued_at) VALUES (?, ?)');
  const insert = raw.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      const id = newId();
      ev.run(
        id,
        createHash('sha256').update(`record ${i}`).digest('hex'),
        'detection',
        'digest',
        1_700_000_000_000 + i,
        1_700_000_000_500 + i,
        null,
        null,
        null,
        i % 7 === 0 ? `{"i":${i}}` : null,
        0,
      );
      q.run(id, 1_700_000_000_500 + i);
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < RECORDS - UNSEQUENCED; i += 10_000)
    insert(i, Math.min(i + 10_000, RECORDS - UNSEQUENCED));
  raw.close();
  log(
    `wrote ${RECORDS - UNSEQUENCED} records under 0006 in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  d = deps(fileA);
  const sequencer = createSequencer(
    { ...d, config: { ...d.config, keeper: { ...d.config.keeper, sequenceBatchMax: 50_000 } } },
    device,
  );
  const t1 = performance.now();
  while (await sequencer.runOnce());
  log(`sequenced them in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  await d.database.close();
  const raw2 = openSqlite(fileA, { busyTimeoutMs: 5_000, synchronous: 'NORMAL' });
  const insert2 = raw2.transaction(() => {
    for (let i = RECORDS - UNSEQUENCED; i < RECORDS; i++) {
      const id = newId();
      raw2
        .prepare(
          'INSERT INTO evidence (id, digest, kind, source, occurred_at, received_at, content_stored) VALUES (?, ?, ?, ?, ?, ?, 0)',
        )
        .run(id, createHash('sha256').update(`record ${i}`).digest('hex'), 'detection', 'digest', 1, 2);
      raw2.prepare('INSERT INTO sequence_queue (evidence_id, enqueued_at) VALUES (?, ?)').run(id, 2);
    }
  });
  insert2();
  raw2.pragma('wal_checkpoint(TRUNCATE)');
  raw2.close();

  // Receipts issued before the migration: a sample across the log.
  d = deps(fileA);
  const sample = await d.database.db
    .selectFrom('log_leaves')
    .select('evidence_id')
    .where((eb) => eb('leaf_index', 'in', [0, 1, 4_095, Math.floor(RECORDS / 2), RECORDS - UNSEQUENCED - 1]))
    .execute();
  const receiptsBefore = [];
  for (const { evidence_id } of sample) receiptsBefore.push(await receiptFor(d.database.db, evidence_id));
  await d.database.close();
  const fileB = path.join(dir, 'b.sqlite3');
  fs.copyFileSync(fileA, fileB);

  // 2. The migration, timed; disk before and after (the WAL is not truncated: its size is what it used).
  const before = files(fileA);
  d = deps(fileA);
  const t2 = performance.now();
  const applied = await migrate(d.database);
  const ms = performance.now() - t2;
  const after = files(fileA); // before closing: the last close checkpoints and removes the WAL
  await d.database.close();
  log(
    `migration ${applied.map((m) => m.version).join(',')} on ${RECORDS} records: ${ms.toFixed(1)} ms; main file ${(before.main / MB).toFixed(1)} → ${(after.main / MB).toFixed(1)} MB, WAL ${(before.wal / MB).toFixed(3)} → ${(after.wal / MB).toFixed(3)} MB (peak extra disk ≤ the WAL: ${Math.round(after.wal / 1024)} KiB)`,
  );

  // 3. SIGKILL while migrating (a child process each time), then a restart completes it.
  let kills = 0;
  // SIGKILL a few ms after the child said "migrating" (it has the database open and is about to run
  // migrate()): a kill before 0007 committed is a kill in the middle of the migration.
  // The child runs with an LD_PRELOAD shim that sleeps 20 ms in every fsync/fdatasync (an SD card's
  // commit, roughly): the migration's transaction then stays open long enough for a kill to land in it.
  const shim = path.join(dir, 'slow-fsync.so');
  fs.writeFileSync(
    path.join(dir, 'slow-fsync.c'),
    `#define _GNU_SOURCE
#include <dlfcn.h>
#include <unistd.h>
int fsync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fsync"); usleep(20000); return real(fd); }
int fdatasync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fdatasync"); usleep(20000); return real(fd); }
`,
  );
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, path.join(dir, 'slow-fsync.c'), '-ldl']);
  let midway = 0;
  for (const delayMs of [0, 2, 5, 10, 15, 20, 30, 40, 50]) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', MIGRATE_CHILD], {
      env: { ...process.env, API_DB_URL: `sqlite://${fileB}`, LD_PRELOAD: shim },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', (c, sig) => r(sig ?? c)));
    await new Promise((r) => child.stdout.once('data', r));
    await new Promise((r) => setTimeout(r, delayMs));
    child.kill('SIGKILL');
    const code = await exited;
    const check = openSqlite(fileB, { busyTimeoutMs: 5_000, synchronous: 'FULL' });
    const state = check
      .prepare(
        "SELECT (SELECT count(*) FROM schema_migrations WHERE version = 7) AS applied, (SELECT count(*) FROM log_meta WHERE name = 'sequence_rowid_base') AS base, (SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'sequence_queue_closed') AS trig, (SELECT quick_check FROM pragma_quick_check) AS ok",
      )
      .get();
    check.close();
    if (!(state.applied === state.base && state.base === state.trig) || state.ok !== 'ok')
      throw new Error(`half-applied after SIGKILL: ${JSON.stringify(state)}`);
    if (code === 'SIGKILL') kills++;
    if (code === 'SIGKILL' && !state.applied) midway++;
    log(
      `SIGKILL ${delayMs} ms after "migrating" (${code}): 0007 ${state.applied ? 'applied whole' : 'not applied'}; quick_check ok`,
    );
    if (state.applied) break;
  }
  log(`${midway} kills landed while migrating; none left 0007 half-applied`);
  d = deps(fileB);
  const restarted = await migrate(d.database);
  log(
    `restart applied: [${restarted.map((m) => m.version)}]; base ${await getLogMeta(d.database.db, SEQUENCE_ROWID_BASE)}; backlog ${await countQueuedEvidence(d.database.db)}`,
  );

  // 4. After: old receipts verify and equal the new ones; the keeper sequences the rest exactly once.
  for (const old of receiptsBefore) {
    if (!verifyReceiptOffline(old).ok)
      throw new Error('a receipt issued before the migration no longer verifies');
    const now = await receiptFor(d.database.db, old.evidence.id);
    if (!verifyReceiptOffline(now).ok || JSON.stringify(now.leaf) !== JSON.stringify(old.leaf))
      throw new Error('receipt changed');
  }
  const seq2 = createSequencer(d, device);
  while (await seq2.runOnce());
  const counts = d.database.sqlite
    .prepare(
      'SELECT (SELECT count(*) FROM evidence) AS e, (SELECT count(*) FROM log_leaves) AS l, (SELECT count(DISTINCT evidence_id) FROM log_leaves) AS d, (SELECT max(leaf_index) FROM log_leaves) AS m, (SELECT count(*) FROM sequence_queue) AS q',
    )
    .get();
  await d.database.close();
  if (!(
    counts.e === RECORDS &&
    counts.l === RECORDS &&
    counts.d === RECORDS &&
    counts.m === RECORDS - 1 &&
    counts.q === 0
  ))
    throw new Error(`not exactly once: ${JSON.stringify(counts)}`);
  log(
    `${receiptsBefore.length} receipts from before verify after; ${counts.l} leaves for ${counts.e} records, indices 0…${counts.m}, queue empty; ${kills} SIGKILLs landed`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
