import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDatabase, migrate } from '@fieldproof/db';
import type { Engine } from '@fieldproof/db';
import { freshDatabaseUrl, targetOf, tempDir, testEngines } from './support/databases.js';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { runNode } from './support/processes.js';

// Every way `fieldproof api` and `fieldproof keeper` can fail to start: each must EXIT (a process that
// stays up serving nothing looks healthy to systemd, and Restart= never fires), with one line on stderr
// naming the problem and the status of the one table in README "Exit status": 2 when the operator must
// fix something first, 1 otherwise. Runs the BUILT CLI (`npm run build` first; `npm test` does it).
// A leaked handle would not hang the test: the CLI's last-resort exit fires 5 s after main returned and
// adds a second stderr line, which the one-line assertions catch; runNode's deadline is the backstop.

const PROCESSES = ['api', 'keeper'] as const;
type Process = (typeof PROCESSES)[number];

/** A working environment for both processes on this database, in a fresh data folder. */
function baseEnv(url: string, dir = tempDir()): Record<string, string> {
  return {
    API_DB_URL: url,
    KEEPER_DB_URL: '',
    FIELDPROOF_DATA_DIR: dir,
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    KEEPER_HTTP_HOST: '127.0.0.1',
    KEEPER_HTTP_PORT: '0',
    KEEPER_PROVIDER: 'stub',
    KEEPER_CHAINS: '',
    KEEPER_SIGNER_KEY: '',
    KEEPER_SIGNER_KEY_FILE: '',
    FIELDPROOF_LOG_ORIGIN: '',
    FIELDPROOF_DEVICE_KEY: '',
    FIELDPROOF_DEVICE_KEY_FILE: '',
    LOG_LEVEL: 'info',
  };
}

async function sqliteUrl(): Promise<string> {
  return freshDatabaseUrl('sqlite');
}

/** What systemd and the container start for each process (`fieldproof api` / `keeper` delegate to the same). */
const APP_ENTRY = {
  api: fileURLToPath(new URL('../apps/api/dist/index.js', import.meta.url)),
  keeper: fileURLToPath(new URL('../apps/keeper/dist/index.js', import.meta.url)),
} as const;

/**
 * Runs the process to its exit (through the CLI, or with `via: 'app'` its apps/* entry point); a process
 * still running after 30 s is killed (and the test fails).
 */
async function start(processName: Process, env: Record<string, string>, via: 'cli' | 'app' = 'cli') {
  const args = via === 'cli' ? [FIELDPROOF_BIN, processName] : [APP_ENTRY[processName]];
  const result = await runNode(args, env, {
    cwd: env.FIELDPROOF_DATA_DIR,
    timeoutMs: 30_000,
  });
  return { ...result, lines: result.stderr.split('\n').filter((l) => l !== '') };
}

/** A database migrated by the real migrator, then changed by `tamper` through a raw connection. */
async function migratedThen(engine: Engine, tamper: string): Promise<string> {
  const url = await freshDatabaseUrl(engine);
  const database = createDatabase(targetOf(url));
  try {
    await migrate(database);
    await database.withMigrationLock((conn) => conn.exec(tamper));
  } finally {
    await database.close();
  }
  return url;
}

/** A listening socket on 127.0.0.1 that the process under test then cannot bind. */
async function withBlockedPort<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  try {
    return await fn((blocker.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  return withBlockedPort(async (port) => port);
}

describe.each(PROCESSES)('fieldproof %s: every start-up failure exits with one line', (name) => {
  const prefix = `fieldproof ${name}: refusing to start: `;

  it('a bad setting: exit 2, the line names the variable', async () => {
    const result = await start(name, { ...baseEnv(await sqliteUrl()), API_PORT: 'notaport' });
    expect(result.code).toBe(2);
    expect(result.lines).toEqual(['fieldproof: API_PORT: "notaport" is not a whole number']);
  });

  it('its port in use: exit 1, the line names the address and the settings', async () => {
    const url = await sqliteUrl();
    await withBlockedPort(async (port) => {
      const env = { ...baseEnv(url), [name === 'api' ? 'API_PORT' : 'KEEPER_HTTP_PORT']: String(port) };
      const result = await start(name, env);
      expect(result.code).toBe(1);
      const settings = name === 'api' ? 'API_HOST / API_PORT' : 'KEEPER_HTTP_HOST / KEEPER_HTTP_PORT';
      expect(result.lines).toEqual([
        `${prefix}cannot listen on 127.0.0.1:${port} (EADDRINUSE); set ${settings}`,
      ]);
    });
  });

  it('a SQLite file that cannot be created: exit 1, the line names the database', async () => {
    const file = path.join(tempDir(), 'not-a-folder');
    fs.writeFileSync(file, '');
    const result = await start(name, baseEnv(`sqlite://${file}/fieldproof.sqlite3`));
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `${prefix}cannot open the database sqlite://${file}/fieldproof.sqlite3: ENOTDIR: not a directory, open '${file}/fieldproof.sqlite3'`,
    ]);
  });

  it('PostgreSQL unreachable: exit 1, the line names the database without its password', async () => {
    const port = await closedPort();
    const result = await start(name, baseEnv(`postgres://fieldproof:s3cret@127.0.0.1:${port}/fieldproof`));
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `${prefix}cannot open the database postgres://fieldproof:***@127.0.0.1:${port}/fieldproof: connect ECONNREFUSED 127.0.0.1:${port}`,
    ]);
    expect(result.stdout + result.stderr).not.toContain('s3cret');
  });

  describe.each(testEngines())('on %s', (engine) => {
    it('an applied migration edited since: exit 2 (the same from both processes)', async () => {
      const url = await migratedThen(
        engine,
        `UPDATE schema_migrations SET checksum = '${'0'.repeat(64)}' WHERE version = 2`,
      );
      const result = await start(name, baseEnv(url));
      expect(result.code).toBe(2);
      expect(result.lines).toHaveLength(1);
      expect(result.lines[0]).toMatch(
        new RegExp(`^${prefix}migration 2 \\(evidence_append_only\\) was edited after it was applied: `),
      );
    });

    it('a database migrated by newer code: exit 2', async () => {
      const url = await migratedThen(
        engine,
        `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'from_the_future', 'x', 1)`,
      );
      const result = await start(name, baseEnv(url));
      expect(result.code).toBe(2);
      expect(result.lines).toHaveLength(1);
      expect(result.lines[0]).toMatch(
        new RegExp(
          `^${prefix}the database has migration 9999 \\(from_the_future\\), which this code does not know`,
        ),
      );
    });
  });
});

// The deployed entry points share the CLI's run (runService): the same lines and statuses.
describe.each(PROCESSES)('apps/%s: the same lines and exit statuses as the CLI', (name) => {
  it('a bad setting: exit 2, the line names the variable', async () => {
    const result = await start(name, { ...baseEnv(await sqliteUrl()), API_PORT: 'notaport' }, 'app');
    expect(result.code).toBe(2);
    expect(result.lines).toEqual(['fieldproof: API_PORT: "notaport" is not a whole number']);
  });

  it('its port in use: exit 1, the line names the address and the settings', async () => {
    const url = await sqliteUrl();
    await withBlockedPort(async (port) => {
      const env = { ...baseEnv(url), [name === 'api' ? 'API_PORT' : 'KEEPER_HTTP_PORT']: String(port) };
      const result = await start(name, env, 'app');
      expect(result.code).toBe(1);
      const settings = name === 'api' ? 'API_HOST / API_PORT' : 'KEEPER_HTTP_HOST / KEEPER_HTTP_PORT';
      expect(result.lines).toEqual([
        `fieldproof ${name}: refusing to start: cannot listen on 127.0.0.1:${port} (EADDRINUSE); set ${settings}`,
      ]);
    });
  });
});

// A device key file readable by others and a changed origin: test/keeper-process.test.ts.
describe('fieldproof keeper: start-up failures of its own', () => {
  const prefix = 'fieldproof keeper: refusing to start: ';

  it('a device key file that is not a key: exit 2, one line that does not echo the file', async () => {
    const env = baseEnv(await sqliteUrl());
    const keyFile = path.join(env.FIELDPROOF_DATA_DIR!, 'device.key');
    fs.writeFileSync(keyFile, 'PRIVATE+garbage+not-a-key\n', { mode: 0o600 });
    const result = await start('keeper', env);
    expect(result.code).toBe(2);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(new RegExp(`^${prefix}.*device\\.key`));
    expect(result.stderr).not.toContain('garbage');
  });

  it('an anchoring signer key that is not a key: exit 2, one line that does not echo it', async () => {
    const rpcPort = await closedPort();
    const env = {
      ...baseEnv(await sqliteUrl()),
      KEEPER_PROVIDER: 'evm',
      KEEPER_CHAINS: JSON.stringify([
        { name: 'local', rpcUrl: `http://127.0.0.1:${rpcPort}`, chainId: 31337, confirmations: 1 },
      ]),
      KEEPER_SIGNER_KEY: '0xnot-a-private-key-secret',
    };
    const result = await start('keeper', env);
    expect(result.code).toBe(2);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(new RegExp(`^${prefix}.*KEEPER_SIGNER_KEY`));
    expect(result.stdout + result.stderr).not.toContain('not-a-private-key-secret');
  });

  it('KEEPER_PROVIDER=collector without a collector that has a fleetKey: exit 2, one line', async () => {
    const result = await start('keeper', { ...baseEnv(await sqliteUrl()), KEEPER_PROVIDER: 'collector' });
    expect(result.code).toBe(2);
    expect(result.lines).toEqual([
      'fieldproof: KEEPER_PROVIDER: "collector" needs a KEEPER_COLLECTORS entry with a "fleetKey" (the collector\'s fleet key, printed by fieldproof collector-key)',
    ]);
  });
});
