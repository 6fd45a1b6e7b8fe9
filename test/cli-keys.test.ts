import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '@fieldproof/api';
import { createDatabase, findActiveApiKeyByHash, parseDatabaseUrl } from '@fieldproof/db';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { tempDir } from './support/databases.js';
import { runNode } from './support/processes.js';

const fp = (args: string[], env: Record<string, string>) => runNode([FIELDPROOF_BIN, ...args], env);

describe('fieldproof keys', () => {
  const url = `sqlite://${path.join(tempDir('fieldproof-keys-'), 'keys.sqlite3')}`;
  const env = { API_DB_URL: url };

  it('creates a key on a fresh database (migrating it), prints it once, stores only its hash', async () => {
    const text = await fp(['keys', 'create', '--scopes', 'read,write,admin', '--label', 'ops'], env);
    expect(text.code, text.stderr).toBe(0);
    const key = /\b(fp_[A-Za-z0-9_-]{43})\b/.exec(text.stdout)?.[1];
    expect(key).toBeDefined();
    expect(text.stdout).toMatch(/not shown again/);

    const json = await fp(['keys', 'create', '--scopes', 'write', '--json'], env);
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const created = JSON.parse(lines[0]!) as { id: string; key: string; scopes: string[]; label: null };
    expect(created).toMatchObject({ scopes: ['write'], label: null });

    const database = createDatabase(parseDatabaseUrl(url, 'test'));
    try {
      const row = await findActiveApiKeyByHash(database.db, hashApiKey(created.key));
      expect(row).toMatchObject({ id: created.id, scopes: 'write' });
      const all = await database.db.selectFrom('api_keys').selectAll().execute();
      expect(JSON.stringify(all)).not.toContain(created.key);
      expect(JSON.stringify(all)).not.toContain(key);
    } finally {
      await database.close();
    }

    const list = await fp(['keys', 'list', '--json'], env);
    const keys = JSON.parse(list.stdout) as { id: string; scopes: string[]; revokedAt: number | null }[];
    expect(keys.map((k) => k.scopes)).toEqual([['read', 'write', 'admin'], ['write']]);
    expect(list.stdout).not.toContain('fp_');

    const revoked = await fp(['keys', 'revoke', created.id], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/revoked API key .* within 5 s/);
    const again = await fp(['keys', 'revoke', created.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no active key/);
    const listed = await fp(['keys', 'list'], env);
    expect(listed.stdout).toMatch(new RegExp(`${created.id}\\s+revoked`));
  });

  const usage = [
    { args: ['keys'], error: /missing sub-command/ },
    { args: ['keys', 'create'], error: /--scopes is required/ },
    { args: ['keys', 'create', '--scopes', 'read,root'], error: /unknown scope "root"/ },
    { args: ['keys', 'create', '--scopes', 'read', '--bogus'], error: /bogus/ },
    { args: ['keys', 'revoke'], error: /exactly one key id/ },
    { args: ['keys', 'rotate'], error: /unknown keys sub-command/ },
  ];
  it.each(usage)('refuses $args with a one-line usage error (exit 2)', async ({ args, error }) => {
    const res = await fp(args, env);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(error);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('api and keys have --help with an example', async () => {
    for (const command of ['api', 'keys']) {
      const res = await fp([command, '--help'], {});
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/Example:\n\s+\S*.*fieldproof/);
    }
  });
});
