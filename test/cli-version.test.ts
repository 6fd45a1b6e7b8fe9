import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { runNode } from './support/processes.js';

/** The BUILT `fieldproof --version` (`npm run build` first): what an operator pastes into a bug report. */
const rootVersion = (
  JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

describe('fieldproof --version', () => {
  it.each(['--version', '-V'])(
    '%s prints one line: the root package version and the Node.js version',
    async (flag) => {
      const res = await runNode([FIELDPROOF_BIN, flag], {});
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toBe(`fieldproof ${rootVersion} (node ${process.version})\n`);
      expect(res.stderr).toBe('');
    },
  );

  it('is listed in the overview', async () => {
    const res = await runNode([FIELDPROOF_BIN, '--help'], {});
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/fieldproof --version/);
  });
});
