import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseUrlError, resolveDatabaseUrl } from '@fieldproof/db';

const cwd = '/srv/app';

describe('resolveDatabaseUrl: the chain API_DB_URL → KEEPER_DB_URL → default', () => {
  const cases: {
    name: string;
    env: Record<string, string>;
    variable: string;
    engine: string;
    path?: string;
  }[] = [
    {
      name: 'default',
      env: {},
      variable: 'default',
      engine: 'sqlite',
      path: '/srv/app/blockchain_outbox.sqlite3',
    },
    {
      name: 'API_DB_URL wins',
      env: { API_DB_URL: 'sqlite://a.sqlite3', KEEPER_DB_URL: 'sqlite://k.sqlite3' },
      variable: 'API_DB_URL',
      engine: 'sqlite',
      path: '/srv/app/a.sqlite3',
    },
    {
      name: 'KEEPER_DB_URL next',
      env: { KEEPER_DB_URL: 'sqlite://data/k.sqlite3' },
      variable: 'KEEPER_DB_URL',
      engine: 'sqlite',
      path: '/srv/app/data/k.sqlite3',
    },
    {
      name: 'empty counts as unset',
      env: { API_DB_URL: '  ', KEEPER_DB_URL: 'sqlite://k.sqlite3' },
      variable: 'KEEPER_DB_URL',
      engine: 'sqlite',
      path: '/srv/app/k.sqlite3',
    },
    {
      name: 'absolute path',
      env: { API_DB_URL: 'sqlite:///var/lib/fp/db.sqlite3' },
      variable: 'API_DB_URL',
      engine: 'sqlite',
      path: '/var/lib/fp/db.sqlite3',
    },
    {
      name: 'percent-encoded space',
      env: { API_DB_URL: 'sqlite:///tmp/my%20db.sqlite3' },
      variable: 'API_DB_URL',
      engine: 'sqlite',
      path: '/tmp/my db.sqlite3',
    },
    {
      name: 'postgres://',
      env: { API_DB_URL: 'postgres://u:p@db:5432/fp' },
      variable: 'API_DB_URL',
      engine: 'postgres',
    },
    {
      name: 'postgresql://',
      env: { KEEPER_DB_URL: 'postgresql://db/fp' },
      variable: 'KEEPER_DB_URL',
      engine: 'postgres',
    },
    {
      name: 'scheme is case-insensitive',
      env: { API_DB_URL: 'SQLITE://x.sqlite3' },
      variable: 'API_DB_URL',
      engine: 'sqlite',
      path: '/srv/app/x.sqlite3',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const target = resolveDatabaseUrl(c.env, cwd);
      expect(target.variable).toBe(c.variable);
      expect(target.engine).toBe(c.engine);
      if (c.path !== undefined && target.engine === 'sqlite')
        expect(target.path).toBe(path.normalize(c.path));
    });
  }

  const bad: { name: string; env: Record<string, string>; variable: string; reason: RegExp }[] = [
    {
      name: 'no scheme',
      env: { API_DB_URL: 'blockchain.sqlite3' },
      variable: 'API_DB_URL',
      reason: /expected sqlite/,
    },
    {
      name: 'mysql',
      env: { KEEPER_DB_URL: 'mysql://db/x' },
      variable: 'KEEPER_DB_URL',
      reason: /unsupported scheme "mysql:"/,
    },
    {
      name: 'file://',
      env: { API_DB_URL: 'file:///tmp/x' },
      variable: 'API_DB_URL',
      reason: /unsupported scheme/,
    },
    { name: 'empty sqlite path', env: { API_DB_URL: 'sqlite://' }, variable: 'API_DB_URL', reason: /empty/ },
    { name: 'folder', env: { API_DB_URL: 'sqlite:///tmp/' }, variable: 'API_DB_URL', reason: /folder/ },
    {
      name: 'query string',
      env: { API_DB_URL: 'sqlite://x.sqlite3?mode=ro' },
      variable: 'API_DB_URL',
      reason: /query string/,
    },
    {
      name: 'bad percent',
      env: { API_DB_URL: 'sqlite://x%zz.sqlite3' },
      variable: 'API_DB_URL',
      reason: /percent/,
    },
    { name: 'memory', env: { API_DB_URL: 'sqlite://:memory:' }, variable: 'API_DB_URL', reason: /in-memory/ },
    {
      name: 'postgres without db',
      env: { API_DB_URL: 'postgres://host:5432' },
      variable: 'API_DB_URL',
      reason: /no database name/,
    },
    {
      name: 'postgres garbage',
      env: { API_DB_URL: 'postgres://a b:c' },
      variable: 'API_DB_URL',
      reason: /not a valid URL/,
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}, naming ${c.variable}`, () => {
      let caught: unknown;
      try {
        resolveDatabaseUrl(c.env, cwd);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(DatabaseUrlError);
      const e = caught as DatabaseUrlError;
      expect(e.variable).toBe(c.variable);
      expect(e.message).toMatch(c.reason);
      expect(e.message.startsWith(`${c.variable}=`)).toBe(true);
      expect(e.message).not.toContain('\n');
    });
  }

  it('never prints a password', () => {
    expect(() => resolveDatabaseUrl({ API_DB_URL: 'postgres://u:s3cret@host:5432' })).toThrow(
      /u:\*\*\*@host/,
    );
    expect(() => resolveDatabaseUrl({ API_DB_URL: 'postgres://u:s3cret@host:5432' })).not.toThrow(/s3cret/);
  });
});
