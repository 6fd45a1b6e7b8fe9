import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '@fieldproof/db';
import { receiptFor } from '@fieldproof/proofs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, tempDir } from './support/databases.js';
import { createLogFixture } from './support/log-fixture.js';
import { runNode } from './support/processes.js';

/**
 * The README as a newcomer pastes it (issue 11, items 15–17): the first request fetches the receipt of
 * the record it just created, its sample `verify` output is what the BUILT command prints (hashes and
 * names aside), the consistency example pins the device key, and the anchoring section leads to a
 * local-chain walk-through that exists.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'packages/cli/bin/fieldproof.js');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The text of a `## title` section, up to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, title).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The first fenced block of a section. */
function codeBlock(text: string): string {
  const match = /```\w*\n([\s\S]*?)```/.exec(text);
  expect(match).not.toBeNull();
  return match![1]!;
}

/** Hashes, ids, origins, key names and numbers differ from run to run; the words and links do not. */
const shape = (line: string) =>
  line
    .replace(/[0-9a-f]{64}/g, 'HASH')
    .replace(/\S+\+[0-9a-f]{8}\b/g, 'KEY')
    .replace(/(checkpoint: )\S+/g, '$1ORIGIN')
    .replace(/\d+/g, 'N');

describe('README', { timeout: 60_000 }, () => {
  let database: Database;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('fieldproof-readme-');
    database = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    await database?.close();
  });

  it('First request fetches the receipt of the id the POST returned, not a pasted one', () => {
    const commands = codeBlock(section('First request'))
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    expect(commands.join('\n')).toMatch(/^ID=\$\(curl -s -X POST [^\n]*\/v1\/evidence /m);
    const urls = commands.join('\n').match(/\/v1\/evidence\/\S+/g) ?? [];
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^\/v1\/evidence\/\$ID\b/);
  });

  it('First request shows what fieldproof verify really prints', async () => {
    const block = codeBlock(section('First request')).split('\n');
    const at = block.findIndex((l) => l.startsWith('npx fieldproof verify '));
    expect(at).toBeGreaterThan(-1);
    const shown = block
      .slice(at + 1)
      .filter((l) => l.startsWith('# '))
      .map((l) => l.slice(2));
    const args = block[at]!.replace('npx fieldproof verify ', '').split(' ');
    expect(args).toEqual(['receipt.json', '--content', 'hello.txt']);

    // A receipt like the one the README's fresh start gets: one record, no anchor (stub provider).
    const log = await createLogFixture(database.db);
    const [record] = await log.appendBatch(1);
    fs.writeFileSync(
      path.join(dir, 'receipt.json'),
      JSON.stringify(await receiptFor(database.db, record!.id)),
    );
    fs.writeFileSync(path.join(dir, 'hello.txt'), record!.content);
    const result = await runNode([BIN, 'verify', ...args], {}, { cwd: dir, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(shown.map(shape)).toEqual(result.stdout.trimEnd().split('\n').map(shape));
  });

  it('the consistency example of Verify a receipt pins the device key', () => {
    const examples =
      section('Verify a receipt').match(/fieldproof verify --consistency(?:[^\n]*\\\n)*[^\n]*/g) ?? [];
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(example).toMatch(/--expect-key /);
  });

  it('Anchoring on a chain leads to a local-chain walk-through that exists', () => {
    const anchoring = section('Anchoring on a chain');
    expect(anchoring).toMatch(/`npm run chain`/);
    expect(anchoring).toContain('(docs/ANCHORING.md#0-try-it-on-a-local-chain)');
    const doc = fs.readFileSync(path.join(ROOT, 'docs/ANCHORING.md'), 'utf8');
    expect(doc).toMatch(/^## 0\. Try it on a local chain$/m);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.chain).toBe('node deploy/local-chain/start-chain.mjs');
  });
});
