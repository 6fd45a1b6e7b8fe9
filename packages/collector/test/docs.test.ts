import fs from 'node:fs';
import { errorCatalogue } from '@fieldproof/api';
import { describe, expect, it } from 'vitest';
import { collectorErrorCatalogue } from '../src/index.js';

const read = (p: string) => fs.readFileSync(new URL(`../../../${p}`, import.meta.url), 'utf8');

describe('docs/COLLECTOR.md cannot drift', () => {
  it('lists every error code the collector adds to the api catalogue, with its status', () => {
    const doc = read('docs/COLLECTOR.md');
    const apiCodes = new Set(errorCatalogue().map((e) => e.code));
    const own = collectorErrorCatalogue().filter((e) => !apiCodes.has(e.code));
    expect(own.length).toBeGreaterThan(5);
    for (const { code, statusCode } of own) expect(doc).toContain(`| \`${code}\` | ${statusCode} |`);
  });

  it('documents every COLLECTOR_ setting in docs/COLLECTOR.md and the README', () => {
    const source = read('packages/config/src/collector-config.ts');
    const names = new Set<string>();
    for (const m of source.matchAll(/env\.(COLLECTOR_[A-Z0-9_]+)|'(COLLECTOR_[A-Z0-9_]+)'/g))
      names.add((m[1] ?? m[2])!);
    expect([...names]).toContain('COLLECTOR_DB_URL');
    const doc = read('docs/COLLECTOR.md');
    const readme = read('README.md');
    expect([...names].filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
    expect([...names].filter((n) => !readme.includes(`\`${n}\``))).toEqual([]);
  });
});
