import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A fresh clone has nothing beside it: no test, script or build file may read outside the repository
// (issue 11 item 0: the RFC 6962 vectors were read from a `shared` folder next to the clone).
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const THIS_FILE = path
  .relative(ROOT, fileURLToPath(import.meta.url))
  .split(path.sep)
  .join('/');

/** Files that run or build: the ones a reference to a sibling folder would break. Docs may link out. */
const RUNNABLE =
  /\.(?:[cm]?[jt]s|sh|json)$|(?:^|\/)(?:\.ci\/run|Dockerfile[^/]*|\.dockerignore|[^/]+\.service)$/;
const SKIP = /(?:^|\/)(?:node_modules|dist|\.git|\.tmp|coverage|bench\/results)(?:\/|$)/;

/** Tracked files (`git ls-files`), or every file under the root when there is no git (a source copy). */
function repositoryFiles(): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\0')
      .filter((f) => f !== '');
  } catch {
    return walk('');
  }
}

/** Files under `dir` (relative to the root), not descending into skipped folders such as node_modules. */
function walk(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (SKIP.test(file)) return [];
    return entry.isDirectory() ? walk(file) : entry.isFile() ? [file] : [];
  });
}

// Built from parts so that this file does not match itself.
const SIBLING = ['..', 'shared'].join('/');
const OUTSIDE = new RegExp(`${SIBLING.replace(/\./g, '\\.')}(?:/|\\b)|/work/${'shared'}\\b`);

describe('the repository is self-contained', () => {
  const files = repositoryFiles().filter((f) => RUNNABLE.test(f) && f !== THIS_FILE && !SKIP.test(f));

  it('finds the files it checks', () => {
    expect(files).toContain('packages/merkle/test/vectors.test.ts');
    expect(files).toContain('deploy/arm64/cross-test.sh');
    expect(files).toContain('.ci/run');
    expect(files).toContain('Dockerfile.arm64');
  });

  it(`no test, script or build file refers to ${SIBLING} or another folder outside the clone`, () => {
    const offending = files.flatMap((file) =>
      fs
        .readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (OUTSIDE.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offending).toEqual([]);
  });

  it('carries the RFC 6962 vectors with their licence and provenance', () => {
    const dir = path.join(ROOT, 'test/vectors/rfc6962');
    expect(fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8')).toContain('Apache License');
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('transparency-dev/merkle');
    expect(fs.existsSync(path.join(dir, 'roots.json'))).toBe(true);
  });
});
