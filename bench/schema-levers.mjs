// `node bench/schema-levers.mjs VARIANT K N PREFILL`: a raw better-sqlite3 micro-benchmark of the schema
// levers of issue 13 (not part of npm run bench): bytes written (/proc/self/io write_bytes) and rows/s per
// evidence row, WAL, synchronous=FULL, transactions of K rows, N rows into a table of PREFILL rows built
// from migrations 0001 + 0002. Variants: see `variants` (queue row or not, digest TEXT or BLOB, page size,
// WAL checkpoints by the committing connection or every `every` commits by a PASSIVE checkpoint).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import os from 'node:os';
import { createRequire } from 'node:module';
const require = createRequire(new URL('../packages/db/package.json', import.meta.url));
const Database = require('better-sqlite3');
const ROOT = new URL('../migrations/', import.meta.url).pathname;
const schema =
  fs.readFileSync(path.join(ROOT, '0001_init.sql'), 'utf8') +
  fs.readFileSync(path.join(ROOT, '0002_evidence_append_only.sqlite.sql'), 'utf8');
const writeBytes = () => Number(/write_bytes: (\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'))[1]);
let seq = 0;
function uuid7() {
  const b = crypto.randomBytes(16);
  const t = BigInt(Date.now()) * 4096n + BigInt(seq++ % 4096);
  b.writeUIntBE(Number(t >> 12n), 0, 6);
  b[6] = 0x70 | (Number(t & 0xfffn) >> 8);
  b[7] = Number(t & 0xffn);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const variants = {
  baseline: { queue: true, blob: false },
  noQueue: { queue: false, blob: false },
  noQueueBlob: { queue: false, blob: true },
  baselineNoAutoCkpt: { queue: true, blob: false, autockpt: 0 },
  noQueueNoAutoCkpt: { queue: false, blob: false, autockpt: 0 },
  noQueueCkpt100: { queue: false, blob: false, autockpt: 0, every: 100 },
  noQueueCkpt250: { queue: false, blob: false, autockpt: 0, every: 250 },
  noQueuePage1k: { queue: false, blob: false, page: 1024 },
  baselinePage1k: { queue: true, blob: false, page: 1024 },
  noQueueBlobPage1k: { queue: false, blob: true, page: 1024 },
  noQueuePage1kNoAutoCkpt: { queue: false, blob: false, page: 1024, autockpt: 0 },
  noQueuePage1kCkpt4000: { queue: false, blob: false, page: 1024, autockpt: 4000 },
  noQueuePage1kCkpt16000: { queue: false, blob: false, page: 1024, autockpt: 16000 },
};
const [name, kArg, nArg, preArg] = process.argv.slice(2);
const v = variants[name];
const k = Number(kArg);
const n = Number(nArg);
const pre = Number(preArg ?? 0);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldproof-levers-'));
const file = path.join(dir, 'f.db');
const db = new Database(file);
if (v.page) db.pragma(`page_size=${v.page}`);
db.pragma('journal_mode=WAL');
db.pragma('synchronous=FULL');
db.pragma('foreign_keys=ON');
let s = schema;
if (v.blob)
  s = s.replace(
    'digest TEXT NOT NULL UNIQUE CHECK (length(digest) = 64)',
    'digest BLOB NOT NULL UNIQUE CHECK (length(digest) = 32)',
  );
db.exec(s);
const ins = db.prepare(
  'INSERT INTO evidence (id, digest, kind, source, occurred_at, received_at, payload_mime, payload_size, payload_json, metadata, content_stored) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
);
const q = db.prepare('INSERT INTO sequence_queue (evidence_id, enqueued_at) VALUES (?, ?)');
const row = () => {
  const id = uuid7();
  const d = crypto.randomBytes(32);
  ins.run(
    id,
    v.blob ? d : d.toString('hex'),
    'bench',
    'digest',
    Date.now(),
    Date.now(),
    null,
    null,
    null,
    null,
    0,
  );
  if (v.queue) q.run(id, Date.now());
};
// prefill (not measured): a table of `pre` rows, sequenced (queue empty)
if (pre > 0) {
  const tx = db.transaction((m) => {
    for (let i = 0; i < m; i++) {
      const id = uuid7();
      const d = crypto.randomBytes(32);
      ins.run(id, v.blob ? d : d.toString('hex'), 'bench', 'digest', 1, 1, null, null, null, null, 0);
    }
  });
  for (let i = 0; i < pre; i += 10000) tx(10000);
  db.pragma('wal_checkpoint(TRUNCATE)');
}
if (v.autockpt !== undefined) db.pragma(`wal_autocheckpoint=${v.autockpt}`);
const batch = db.transaction(() => {
  for (let i = 0; i < k; i++) row();
});
const w0 = writeBytes();
const t0 = performance.now();
let commits = 0;
let ckb = 0;
for (let i = 0; i < n; i += k) {
  batch();
  if (v.every && ++commits % v.every === 0) {
    const b = writeBytes();
    db.pragma('wal_checkpoint(PASSIVE)');
    ckb += writeBytes() - b;
  }
}
const t1 = performance.now();
const w1 = writeBytes();
let ck = ckb;
if (v.autockpt === 0) {
  db.pragma('wal_checkpoint(PASSIVE)');
  ck += writeBytes() - w1;
}
console.log(
  JSON.stringify({
    name,
    k,
    n,
    pre,
    rowsPerSec: Math.round(n / ((t1 - t0) / 1000)),
    bytesPerRow: Math.round((w1 - w0 - ckb) / n),
    checkpointBytesPerRow: Math.round(ck / n),
  }),
);
db.close();
fs.rmSync(dir, { recursive: true });
