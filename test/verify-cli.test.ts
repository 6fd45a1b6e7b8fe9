import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '@fieldproof/db';
import { toHex } from '@fieldproof/merkle';
import { generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import { checkpointAt, consistencyProofFor, receiptFor } from '@fieldproof/proofs';
import { buildReceipt, type Receipt } from '@fieldproof/receipt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, tempDir } from './support/databases.js';
import {
  FIXTURE_ORIGIN,
  createLogFixture,
  type FixtureRecord,
  type LogFixture,
} from './support/log-fixture.js';
import { runNode } from './support/processes.js';
import { writeFileIn } from './support/files.js';

/**
 * The BUILT `fieldproof verify` (`npm run build` first), spawned as an auditor would run it: every single
 * change to a receipt — an evidence field, a proof hash, a signature byte, the checkpoint, the key, the
 * content — makes it exit non-zero and name the broken link.
 */
const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));
// Every spawn of the cli costs about a second, more on a loaded machine: the suites get generous limits.

interface JsonReport {
  ok: boolean;
  failed: string[];
  unchecked: string[];
  links: { link: string; status: string; detail: string }[];
}

let database: Database;
let log: LogFixture;
let dir: string;
let record: FixtureRecord;
let receipt: Receipt;
let contentFile: string;

async function verify(args: string[], env: Record<string, string> = {}, input?: string) {
  const result = await runNode([BIN, 'verify', ...args], env, { cwd: dir, timeoutMs: 30_000, input });
  return { ...result, json: args.includes('--json') ? (JSON.parse(result.stdout) as JsonReport) : undefined };
}

const write = (name: string, value: unknown): string => writeFileIn(dir, name, value);

/** A receipt as plain, writable JSON: what a tamperer edits. */
type Editable<T> = { -readonly [K in keyof T]: T[K] extends object | null ? Editable<T[K]> : T[K] };
type EditableReceipt = Editable<Receipt>;

const clone = (): EditableReceipt => JSON.parse(JSON.stringify(receipt)) as EditableReceipt;

/** Flips one hex digit of a hash (keeps it well-formed, so only the proof can catch it). */
const flip = (hex: string, at = 10) => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1);

beforeAll(async () => {
  dir = tempDir('fieldproof-verify-');
  database = await createTestDatabase('sqlite');
  log = await createLogFixture(database.db);
  for (const count of [5, 9, 7]) await log.appendBatch(count); // checkpoints 5, 14, 21
  record = log.records.find((r) => r.metadata !== null && r.leafIndex > 5)!;
  receipt = await receiptFor(database.db, record.id, { format: 'fieldproof-receipt/v1' });
  contentFile = write('content.bin', Buffer.from(record.content));
}, 60_000);

afterAll(async () => {
  await database?.close();
});

describe('fieldproof verify <receipt>', { timeout: 120_000 }, () => {
  it('verifies an honest receipt offline, with its content and the pinned key; anchors unchecked', async () => {
    const file = write('receipt.json', receipt);
    const text = await verify([file, '--content', contentFile, '--expect-key', log.key.verifierKey]);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ok {8}format: fieldproof-receipt\/v1$/m);
    for (const link of ['content', 'leaf', 'inclusion', 'checkpoint', 'signature']) {
      expect(text.stdout).toMatch(new RegExp(`^ok {8}${link}: `, 'm'));
    }
    expect(text.stdout).toMatch(/^verdict: VERIFIED — every requested check holds$/m);

    const bare = await verify([file, '--json']);
    expect(bare.code).toBe(0);
    expect(bare.json).toMatchObject({ ok: true, failed: [], unchecked: ['content'] });
    expect(bare.json?.links.find((l) => l.link === 'signature')?.detail).toMatch(/pin it/);
  });

  it('verify - reads the receipt from standard input (a pipe from curl), with the same verdicts', async () => {
    const piped = await verify(
      ['-', '--content', contentFile, '--expect-key', log.key.verifierKey],
      {},
      JSON.stringify(receipt),
    );
    expect(piped.code, piped.stdout + piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/^verdict: VERIFIED — every requested check holds$/m);
    const json = await verify(['-', '--json'], {}, JSON.stringify(receipt));
    expect(json.json).toMatchObject({ file: '-', ok: true });

    const tampered = clone();
    tampered.evidence.occurredAt += 1;
    const broken = await verify(['-'], {}, JSON.stringify(tampered));
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^verdict: FAILED — broken: leaf/m);

    for (const input of ['', '{"format": "fieldproof-receipt/v1",']) {
      const unreadable = await verify(['-'], {}, input);
      expect(unreadable.code).toBe(2);
      expect(unreadable.stderr).toMatch(/standard input is not JSON/);
    }
  });

  const key2 = generateDeviceKey(FIXTURE_ORIGIN);
  const cases: { name: string; tamper: (r: EditableReceipt) => unknown; link: string }[] = [
    { name: 'evidence.id', tamper: (r) => (r.evidence.id = flip(r.evidence.id, 35)), link: 'leaf' },
    {
      name: 'evidence.digest',
      tamper: (r) => (r.evidence.digest = flip(r.evidence.digest)),
      link: 'content',
    },
    { name: 'evidence.kind', tamper: (r) => (r.evidence.kind = 'detection-x'), link: 'leaf' },
    { name: 'evidence.occurredAt', tamper: (r) => (r.evidence.occurredAt += 1), link: 'leaf' },
    { name: 'evidence.receivedAt', tamper: (r) => (r.evidence.receivedAt -= 1000), link: 'leaf' },
    { name: 'evidence.payloadMime', tamper: (r) => (r.evidence.payloadMime = 'text/plain'), link: 'leaf' },
    { name: 'evidence.metadata (a value)', tamper: (r) => (r.evidence.metadata!.band = 'L2'), link: 'leaf' },
    { name: 'evidence.metadata (removed)', tamper: (r) => (r.evidence.metadata = null), link: 'leaf' },
    { name: 'leaf.leafIndex', tamper: (r) => (r.leaf.leafIndex += 1), link: 'inclusion' },
    { name: 'leaf.leafHash', tamper: (r) => (r.leaf.leafHash = flip(r.leaf.leafHash)), link: 'leaf' },
    {
      name: 'inclusion.proof[0]',
      tamper: (r) => (r.inclusion.proof[0] = flip(r.inclusion.proof[0]!)),
      link: 'inclusion',
    },
    {
      name: 'inclusion.proof[last]',
      tamper: (r) => (r.inclusion.proof[r.inclusion.proof.length - 1] = flip(r.inclusion.proof.at(-1)!, 63)),
      link: 'inclusion',
    },
    { name: 'inclusion.proof (a hash dropped)', tamper: (r) => r.inclusion.proof.pop(), link: 'inclusion' },
    {
      name: 'inclusion.proof (two hashes swapped)',
      tamper: (r) => r.inclusion.proof.reverse(),
      link: 'inclusion',
    },
    { name: 'inclusion.treeSize', tamper: (r) => (r.inclusion.treeSize -= 1), link: 'inclusion' },
    {
      name: 'checkpoint.root',
      tamper: (r) => (r.checkpoint.root = flip(r.checkpoint.root)),
      link: 'checkpoint',
    },
    { name: 'checkpoint.treeSize', tamper: (r) => (r.checkpoint.treeSize += 1), link: 'checkpoint' },
    {
      name: 'checkpoint.origin',
      tamper: (r) => (r.checkpoint.origin = 'fieldproof.test/unit-8'),
      link: 'checkpoint',
    },
    {
      name: 'checkpoint.note (a signature byte)',
      tamper: (r) => (r.checkpoint.note = flipSignatureByte(r.checkpoint.note)),
      link: 'signature',
    },
    {
      name: 'checkpoint.note (the size line)',
      tamper: (r) => (r.checkpoint.note = r.checkpoint.note.replace('\n21\n', '\n20\n')),
      link: 'signature',
    },
    {
      name: 'device.publicKey (another key)',
      tamper: (r) => (r.device.publicKey = key2.verifierKey),
      link: 'signature',
    },
    {
      name: 'format',
      tamper: (r) => ((r as { format: string }).format = 'fieldproof-receipt/v2'),
      link: 'format',
    },
    {
      name: 'an added field',
      tamper: (r) => ((r.evidence as Record<string, unknown>).trusted = true),
      link: 'format',
    },
  ];

  // Each spawn costs about a second: the word form is checked on a few cases, the JSON form on all.
  const WORDS = new Set(['evidence.kind', 'inclusion.proof[0]', 'checkpoint.note (a signature byte)']);

  it.concurrent.for(cases)(
    'a changed $name fails, naming the $link link',
    async ({ name, tamper, link }, { expect }) => {
      const tampered = clone();
      tamper(tampered);
      const file = write(`tampered-${name.replace(/\W+/g, '-')}.json`, tampered);
      const result = await verify([
        file,
        '--content',
        contentFile,
        '--expect-key',
        log.key.verifierKey,
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.json?.ok).toBe(false);
      expect(result.json?.failed).toContain(link);
      if (!WORDS.has(name)) return;
      const words = await verify([file, '--content', contentFile, '--expect-key', log.key.verifierKey]);
      expect(words.code).toBe(1);
      expect(words.stdout).toMatch(new RegExp(`^failed {4}${link}: `, 'm'));
      expect(words.stdout).toMatch(/^verdict: FAILED — broken: /m);
    },
  );

  it('different content fails the content link', async () => {
    const other = write('other-content.bin', 'not the evidence\n');
    const result = await verify([write('receipt.json', receipt), '--content', other, '--json']);
    expect(result.code).toBe(1);
    expect(result.json?.failed).toEqual(['content']);
  });

  it('a receipt re-signed by a forger is self-consistent, and fails only against the pinned key', async () => {
    const forged = buildReceipt({
      evidence: { ...receipt.evidence, kind: 'forged' },
      leafIndex: 0,
      inclusionProof: [],
      checkpointNote: signCheckpoint(
        {
          origin: FIXTURE_ORIGIN,
          treeSize: 1,
          root: (await import('@fieldproof/receipt')).leafHashOf({ ...receipt.evidence, kind: 'forged' }),
        },
        key2,
      ),
      devicePublicKey: key2.verifierKey,
    });
    const file = write('forged.json', forged);
    expect((await verify([file])).code).toBe(0);
    const pinned = await verify([file, '--expect-key', log.key.verifierKey, '--json']);
    expect(pinned.code).toBe(1);
    expect(pinned.json?.failed).toEqual(['signature']);
  });

  it('refuses bad usage and unreadable input with exit 2', async () => {
    const file = write('receipt.json', receipt);
    for (const args of [
      [],
      [file, file],
      [file, '--min-confirmations', '3'],
      [file, '--rpc', 'ftp://x'],
      [file, '--rpc', 'http://127.0.0.1:9', '--min-confirmations', '0'],
      [file, '--content-dir', dir],
      [file, '--proof', file],
      [path.join(dir, 'missing.json')],
      [write('not-json.txt', 'evidence content, not a receipt\n')],
    ]) {
      const result = await verify(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('with --rpc, an unreachable node fails the anchoring rule: it was asked for', async () => {
    const result = await verify([write('receipt.json', receipt), '--rpc', 'http://127.0.0.1:9', '--json']);
    expect(result.code).toBe(1);
    expect(result.json?.failed).toEqual(['anchors']);
  });

  it('--help shows usage and an example', async () => {
    for (const command of ['verify', 'export']) {
      const result = await runNode([BIN, command, '--help'], {}, { cwd: dir });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Usage:\n {2}fieldproof /);
      expect(result.stdout).toMatch(/Example:\n {2}.*fieldproof /);
    }
  });
});

describe('fieldproof export and verify <bundle>', { timeout: 120_000 }, () => {
  let bundleFile: string;
  const env = () => ({ API_DB_URL: database.target.url, KEEPER_DB_URL: '', FIELDPROOF_DATA_DIR: dir });

  beforeAll(async () => {
    bundleFile = path.join(dir, 'bundle.json');
    await log.recordUnsequenced(2);
    const result = await runNode([BIN, 'export', '--all', '--out', bundleFile], env(), { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /exported 21 receipt\(s\) .*tree size 21.*; 2 selected record\(s\) are not in the log yet/,
    );
  });

  it('writes a complete bundle that verifies receipt by receipt', async () => {
    expect(fs.existsSync(`${bundleFile}.partial`)).toBe(false);
    const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as { count: number; receipts: Receipt[] };
    expect(bundle).toMatchObject({ format: 'fieldproof-bundle/v1', count: 21, skipped: 2 });
    const contentDir = path.join(dir, 'content');
    fs.mkdirSync(contentDir, { recursive: true });
    for (const r of log.records.slice(0, 10)) fs.writeFileSync(path.join(contentDir, r.digest), r.content);

    const words = await verify([
      bundleFile,
      '--content-dir',
      contentDir,
      '--expect-key',
      log.key.verifierKey,
    ]);
    expect(words.code, words.stdout).toBe(0);
    expect(words.stdout).toMatch(
      /^bundle .*: 21 receipt\(s\), 21 verified, 0 failed; unchecked: content on 11$/m,
    );
    const json = await verify([bundleFile, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; summary: unknown; receipts: unknown[] };
    expect(report).toMatchObject({ ok: true, summary: { total: 21, verified: 21, failed: 0 } });
    expect(report.receipts).toHaveLength(21);
  });

  it('verify - reads a bundle from standard input', async () => {
    const piped = await verify(['-', '--json'], {}, fs.readFileSync(bundleFile, 'utf8'));
    expect(piped.code, piped.stderr).toBe(0);
    const report = JSON.parse(piped.stdout) as { file: string; ok: boolean; summary: unknown };
    expect(report).toMatchObject({ file: '-', ok: true, summary: { total: 21, verified: 21, failed: 0 } });
    const words = await verify(['-'], {}, fs.readFileSync(bundleFile, 'utf8'));
    expect(words.stdout).toMatch(/^bundle -: 21 receipt\(s\), 21 verified, 0 failed/m);
  });

  it('names the receipt and the link that broke in a tampered bundle', async () => {
    const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as { receipts: EditableReceipt[] };
    bundle.receipts[7]!.evidence.occurredAt += 1;
    const result = await verify([write('bundle-tampered.json', bundle)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAILED receipts\[7\] \S+ leaf 7\n {4}failed {4}leaf: /m);
    expect(result.stdout).toMatch(/21 receipt\(s\), 20 verified, 1 failed/);

    const truncated = { ...bundle, receipts: bundle.receipts.slice(1) };
    const short = await verify([write('bundle-short.json', truncated)]);
    expect(short.code).toBe(1);
    expect(short.stdout).toMatch(/^failed {4}bundle: bundle.count: says 21 receipts, the bundle holds 20/m);
  });

  it('refuses to pass a bundle that holds no receipts: nothing was verified', async () => {
    const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as Record<string, unknown>;
    const empty = write('bundle-empty.json', { ...bundle, receipts: [], count: 0 });
    const words = await verify([empty, '--expect-key', log.key.verifierKey]);
    expect(words.code, words.stdout).toBe(1);
    expect(words.stdout).toMatch(/^failed {4}bundle: bundle.receipts: holds no receipts/m);
    expect(words.stdout).not.toMatch(/VERIFIED/);
    const json = await verify([empty, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false });
  });

  it("refuses a --content-dir that does not exist, is not a folder, or holds no receipt's content", async () => {
    const noContent = path.join(dir, 'unrelated');
    fs.mkdirSync(noContent, { recursive: true });
    fs.writeFileSync(path.join(noContent, 'notes.txt'), 'not evidence\n');
    for (const [contentDir, message] of [
      [path.join(dir, 'no-such-folder'), /no-such-folder.*ENOENT/],
      [contentFile, /content\.bin.*ENOTDIR/],
      [noContent, /unrelated holds the content of none of the 21 receipts/],
    ] as const) {
      const result = await verify([bundleFile, '--content-dir', contentDir]);
      expect(result.code, contentDir).toBe(2);
      expect(result.stdout, contentDir).toBe('');
      expect(result.stderr.trim().split('\n'), contentDir).toHaveLength(1);
      expect(result.stderr, contentDir).toMatch(message);
    }
  });

  it('exports a selection, and refuses contradictory or missing selections', async () => {
    const out = path.join(dir, 'detections.json');
    const since = new Date(log.records[3]!.receivedAt).toISOString();
    const result = await runNode(
      [BIN, 'export', '--out', out, '--kind', 'detection', '--since', since, '--quiet'],
      env(),
      { cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/not in the log yet/); // the skipped count is always said
    const bundle = JSON.parse(fs.readFileSync(out, 'utf8')) as { receipts: Receipt[]; selection: unknown };
    const expected = log.records.filter(
      (r) => r.kind === 'detection' && r.receivedAt >= log.records[3]!.receivedAt,
    );
    expect(bundle.receipts.map((r) => r.evidence.id)).toEqual(expected.map((r) => r.id));
    expect(bundle.selection).toEqual({ since: log.records[3]!.receivedAt, until: null, kind: 'detection' });

    // Another export to the same file is running (or died): its partial file is left alone.
    fs.writeFileSync(`${out}.partial`, 'in progress');
    const busy = await runNode([BIN, 'export', '--all', '--out', out], env(), { cwd: dir });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/detections\.json\.partial exists: another export/);
    expect(fs.readFileSync(`${out}.partial`, 'utf8')).toBe('in progress');

    for (const args of [
      ['--all'],
      ['--out', out],
      ['--out', out, '--all', '--kind', 'x'],
      ['--out', out, '--since', 'yesterday'],
      ['--out', out, '--since', '2025-06-02', '--until', '2025-06-01'],
    ]) {
      const bad = await runNode([BIN, 'export', ...args], env(), { cwd: dir });
      expect(bad.code, args.join(' ')).toBe(2);
    }
  });
});

describe('fieldproof verify --consistency', { timeout: 120_000 }, () => {
  let old5: string;
  let new21: string;
  let proofFile: string;

  beforeAll(async () => {
    old5 = write('checkpoint-5.txt', (await checkpointAt(database.db, 5))!.note);
    new21 = write('checkpoint-21.txt', (await checkpointAt(database.db, 21))!.note);
    proofFile = write('proof.json', {
      from: 5,
      to: 21,
      proof: (await consistencyProofFor(database.db, 5, 21)).map(toHex),
    });
  });

  it('proves that the log only grew between a kept checkpoint and a newer one', async () => {
    const result = await verify([
      '--consistency',
      old5,
      new21,
      '--proof',
      proofFile,
      '--expect-key',
      log.key.verifierKey,
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ok {8}old-checkpoint: /m);
    expect(result.stdout).toMatch(/^ok {8}consistency: tree 21 extends tree 5/m);
    expect(result.stdout).toMatch(
      /^verdict: VERIFIED — the log at tree size 21 extends the kept checkpoint at 5$/m,
    );
    // A copy that went through a Windows editor (CRLF, no final newline) is still the same note.
    const crlf = write(
      'checkpoint-5-crlf.txt',
      fs.readFileSync(old5, 'utf8').replace(/\n/g, '\r\n').trimEnd(),
    );
    const edited = await verify([
      '--consistency',
      crlf,
      new21,
      '--proof',
      proofFile,
      '--expect-key',
      log.key.verifierKey,
    ]);
    expect(edited.code, edited.stdout).toBe(0);
    // A receipt names its key: keeping a receipt is keeping a checkpoint.
    const fromReceipt = await verify([
      '--consistency',
      write('receipt.json', receipt),
      new21,
      '--proof',
      write('proof-21.json', { from: 21, to: 21, proof: [] }),
    ]);
    expect(fromReceipt.code, fromReceipt.stdout).toBe(0);
  });

  it('fails a tampered proof, a rewritten history, swapped checkpoints and a proof for other sizes', async () => {
    const proof = JSON.parse(fs.readFileSync(proofFile, 'utf8')) as { proof: string[] };
    const bad = write('proof-bad.json', {
      from: 5,
      to: 21,
      proof: [flip(proof.proof[0]!), ...proof.proof.slice(1)],
    });
    const tampered = await verify([
      '--consistency',
      old5,
      new21,
      '--proof',
      bad,
      '--expect-key',
      log.key.verifierKey,
      '--json',
    ]);
    expect(tampered.code).toBe(1);
    expect(tampered.json?.links.find((l) => l.link === 'consistency')?.status).toBe('failed');

    // A forked log: same key, same size 5 checkpoint name, different history.
    const forkRoot = log.tree.root(4);
    const fork = write(
      'fork-5.txt',
      signCheckpoint({ origin: FIXTURE_ORIGIN, treeSize: 5, root: forkRoot }, log.key),
    );
    const forked = await verify([
      '--consistency',
      fork,
      new21,
      '--proof',
      proofFile,
      '--expect-key',
      log.key.verifierKey,
    ]);
    expect(forked.code).toBe(1);
    expect(forked.stdout).toMatch(/^failed {4}consistency: tree 21 does not extend tree 5/m);

    const swapped = await verify([
      '--consistency',
      new21,
      old5,
      '--proof',
      proofFile,
      '--expect-key',
      log.key.verifierKey,
    ]);
    expect(swapped.code).toBe(1);

    const other = write('proof-other.json', {
      from: 14,
      to: 21,
      proof: (await consistencyProofFor(database.db, 14, 21)).map(toHex),
    });
    const mismatch = await verify([
      '--consistency',
      old5,
      new21,
      '--proof',
      other,
      '--expect-key',
      log.key.verifierKey,
      '--json',
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.json?.links[0]).toMatchObject({ link: 'proof', status: 'failed' });
  });

  it('without --expect-key, a bare note is refused with the key to pin and where to find it', async () => {
    const noKey = await verify(['--consistency', old5, new21, '--proof', proofFile]);
    expect(noKey.code).toBe(2);
    expect(noKey.stdout).toBe('');
    expect(noKey.stderr.trim().split('\n')).toHaveLength(1);
    // The note's signature line names the key (name and id): the message says which key to pin.
    const [name, id] = log.key.verifierKey.split('+');
    expect(noKey.stderr).toContain(`--expect-key '${name}+${id}+…'`);
    expect(noKey.stderr).toMatch(/printed by "fieldproof device"/);
  });

  it('refuses a consistency proof file that is not exactly {from, to, proof} with exit 2', async () => {
    const proof = JSON.parse(fs.readFileSync(proofFile, 'utf8')) as { proof: string[] };
    const cases: { name: string; value: unknown; message: RegExp }[] = [
      {
        name: 'from as a string',
        value: { ...proof, from: '5', to: 21 },
        message: /proof\.from: expected a non-negative integer, got "5"/,
      },
      { name: 'to as a string', value: { ...proof, from: 5, to: '21' }, message: /proof\.to: expected/ },
      { name: 'from missing', value: { to: 21, proof: proof.proof }, message: /proof\.from: is missing/ },
      {
        name: 'an unknown field',
        value: { from: 5, to: 21, proof: proof.proof, trusted: true },
        message: /proof\.trusted: is not a field/,
      },
      {
        name: 'a hash as a number',
        value: { from: 5, to: 21, proof: [1, ...proof.proof.slice(1)] },
        message: /proof\.proof\[0\]: expected 64 lowercase hex/,
      },
      { name: 'a bare array', value: proof.proof, message: /proof: expected an object/ },
    ];
    for (const { name, value, message } of cases) {
      const result = await verify([
        '--consistency',
        old5,
        new21,
        '--proof',
        write(`proof-${name.replace(/\W+/g, '-')}.json`, value),
        '--expect-key',
        log.key.verifierKey,
      ]);
      expect(result.code, name).toBe(2);
      expect(result.stdout, name).toBe('');
      expect(result.stderr, name).toMatch(message);
    }
  });
});

describe('fieldproof verify --consistency reads checkpoint files strictly', { timeout: 120_000 }, () => {
  it('takes a checkpoint answer as it is, and refuses unknown fields, bad types and copies that are not the note', async () => {
    const answer = { ...(await checkpointAt(database.db, 5))!, verifierKey: log.key.verifierKey };
    const new21 = write('strict-checkpoint-21.txt', (await checkpointAt(database.db, 21))!.note);
    const proof = write('strict-proof.json', {
      from: 5,
      to: 21,
      proof: (await consistencyProofFor(database.db, 5, 21)).map(toHex),
    });
    const run = (name: string, old: unknown) =>
      verify(['--consistency', write(`strict-${name}.json`, old), new21, '--proof', proof]);

    const honest = await run('honest', answer);
    expect(honest.code, honest.stdout + honest.stderr).toBe(0);

    const cases: { name: string; old: unknown; message: RegExp }[] = [
      { name: 'unknown-field', old: { ...answer, trusted: true }, message: /trusted is not a field/ },
      { name: 'size-as-string', old: { ...answer, treeSize: '5' }, message: /treeSize is malformed/ },
      {
        name: 'size-copy',
        old: { ...answer, treeSize: 4 },
        message: /treeSize 4 is not the signed note's 5/,
      },
      {
        name: 'root-copy',
        old: { ...answer, root: flip(answer.root) },
        message: /root "[0-9a-f]+" is not the signed note's/,
      },
      {
        name: 'receipt-added-field',
        old: { ...receipt, trusted: true },
        message: /receipt\.trusted: is not a field/,
      },
      {
        name: 'receipt-size-copy',
        old: { ...receipt, checkpoint: { ...receipt.checkpoint, treeSize: 20 } },
        message: /receipt\.checkpoint: treeSize 20 is not the signed note's 21/,
      },
    ];
    for (const { name, old, message } of cases) {
      const result = await run(name, old);
      expect(result.code, name).toBe(2);
      expect(result.stdout, name).toBe('');
      expect(result.stderr, name).toMatch(message);
    }
  });
});

/** Changes one byte of the first signature (inside its base64, keeping it valid base64). */
function flipSignatureByte(note: string): string {
  const start = note.lastIndexOf('\n\n') + 2;
  const lineEnd = note.indexOf('\n', start);
  const [dash, name, sig] = note.slice(start, lineEnd).split(' ');
  const bytes = Buffer.from(sig!, 'base64');
  bytes[20] = bytes[20]! ^ 0x01; // a byte of the Ed25519 signature (after the 4-byte key id)
  return `${note.slice(0, start)}${dash} ${name} ${bytes.toString('base64')}${note.slice(lineEnd)}`;
}
