import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// No import circle inside a package, counting `import type` too (STYLE.md 1, issue 12): a circle means a
// contract wants a file of its own (kysely's driver.ts apart from sqlite-driver.ts). ESLint's
// import-x/no-cycle guards the runtime graph but skips type-only imports by design; this reads every
// relative import and export-from of packages/*/src and apps/*/src. Between packages, tsc -b already
// refuses circular project references.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(file);
    return /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [file] : [];
  });
}

/** file → the files it imports (relative specifiers, `./x.js` meaning `./x.ts`). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const text = fs.readFileSync(file, 'utf8');
      const targets = [...text.matchAll(IMPORT)]
        .map((m) => path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')))
        .filter((t) => known.has(t));
      return [file, targets];
    }),
  );
}

/** Every circle, once, as the files along it (depth-first search with an on-path set). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (file: string, trail: string[]) => {
    const at = trail.indexOf(file);
    if (at >= 0) return void found.push(trail.slice(at));
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

describe('import graph', () => {
  const roots = ['packages', 'apps'].flatMap((top) =>
    fs
      .readdirSync(path.join(ROOT, top))
      .map((name) => path.join(ROOT, top, name, 'src'))
      .filter((dir) => fs.existsSync(dir)),
  );

  it.each(roots.map((r) => [path.relative(ROOT, r), r]))('%s has no import circle', (_name, root) => {
    const found = cycles(importGraph(sourceFiles(root)));
    expect(found.map((c) => c.map((f) => path.relative(root, f)).join(' → '))).toEqual([]);
  });

  it('finds a circle when there is one (the one this test was written for)', () => {
    const a = path.join(ROOT, 'a.ts');
    const b = path.join(ROOT, 'b.ts');
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toHaveLength(1);
  });
});
