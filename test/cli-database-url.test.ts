import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/databases.js';
import { runNode } from './support/processes.js';

const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));

/** Every process resolves the database URL first: a bad one stops it before any file exists. */
describe.each(['migrate', 'api', 'keeper'])('fieldproof %s with an unusable database URL', (command) => {
  const cases = [
    { env: { API_DB_URL: 'mysql://db/x' }, variable: 'API_DB_URL' },
    { env: { KEEPER_DB_URL: 'blockchain.sqlite3' }, variable: 'KEEPER_DB_URL' },
    { env: { API_DB_URL: 'sqlite://data/' }, variable: 'API_DB_URL' },
  ];
  for (const c of cases) {
    it(`exits non-zero with one line naming ${c.variable}, creating nothing`, async () => {
      const cwd = tempDir();
      const result = await runNode(
        [BIN, command],
        { API_DB_URL: '', KEEPER_DB_URL: '', ...c.env },
        { cwd, timeoutMs: 20_000 },
      );
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`${c.variable}=`);
      expect(fs.readdirSync(cwd)).toEqual([]);
    });
  }
});
