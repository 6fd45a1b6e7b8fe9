import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (p: string) => fs.readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

/** Every variable the one config module reads, found in its source (so a new setting cannot be missed). */
function variablesRead(): string[] {
  const source = read('packages/config/src/load-config.ts') + read('packages/config/src/chains.ts');
  const names = new Set<string>();
  for (const m of source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
  for (const m of source.matchAll(/(?:int|oneOf|optionalOneOf)(?:<[^>]+>)?\(\s*env,\s*'([A-Z][A-Z0-9_]+)'/g))
    names.add(m[1]!);
  names.add('API_DB_URL').add('KEEPER_DB_URL'); // read through resolveDatabaseUrl
  return [...names].sort();
}

describe('every setting is documented', () => {
  const variables = variablesRead();

  it('finds the settings it checks', () => {
    expect(variables).toContain('KEEPER_CHAINS');
    expect(variables).toContain('API_PORT');
    expect(variables.length).toBeGreaterThan(30);
  });

  it('in the README configuration table', () => {
    const readme = read('README.md');
    const missing = variables.filter((v) => !readme.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it('in the deployment env-file template (test-only settings aside)', () => {
    const template = read('deploy/arm64/fieldproof.env.example');
    const missing = variables.filter((v) => !template.includes(v));
    expect(missing).toEqual([]);
  });
});
