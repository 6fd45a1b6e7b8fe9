import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Workspace subpaths the walk follows into sources (the thread itself resolves them to dist). */
const WORKSPACE = { '@fieldproof/db/raw-sqlite': 'packages/db/src/raw-sqlite.ts' } as Record<string, string>;

/**
 * Every module the SQLite writer thread loads at run time, from its sources: relative imports and
 * re-exports followed, type-only ones skipped (erased). Returns the packages it reaches.
 */
function runtimePackagesOf(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)';/gms)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (WORKSPACE[spec] !== undefined) visit(path.join(ROOT, WORKSPACE[spec]));
      else packages.add(spec);
    }
  };
  visit(path.join(ROOT, entry));
  return packages;
}

describe('the SQLite writer thread', () => {
  it('loads better-sqlite3 and no kysely, pg or full @fieldproof/db (about 22 MB of memory per thread)', () => {
    const packages = [...runtimePackagesOf('packages/api/src/write/sqlite-writer-worker.ts')].sort();
    expect(packages.filter((p) => !p.startsWith('node:'))).toEqual(['better-sqlite3']);
  });
});
