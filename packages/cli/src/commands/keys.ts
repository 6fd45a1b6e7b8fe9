import { loadCollectorConfig, loadConfig } from '@fieldproof/config';
import {
  createApiKeySecret,
  createDatabase,
  hashApiKey,
  insertApiKey,
  listApiKeys,
  migrate,
  newId,
  parseScopeList,
  parseScopes,
  revokeApiKey,
} from '@fieldproof/db';
import type { Database, MigrateOptions } from '@fieldproof/db';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const keysCommand: Command = {
  usage: `fieldproof keys create --scopes read,write[,admin] [--label TEXT] [--json]
      Creates a key and prints it ONCE (only its SHA-256 is stored). --json prints one JSON object
      {"id","key","scopes","label","createdAt"}. Scopes: read (GET routes, /metrics, /docs),
      write (POST/PATCH), admin (everything).
fieldproof keys list [--json]
      Lists keys (id, scopes, label, created, revoked) — never the secrets.
fieldproof keys revoke <id>
      Revokes a key. A running api stops accepting it within API_KEY_CACHE_MS (default 5 s).
--collector
      Any of the above against the fleet collector's database (COLLECTOR_DB_URL) instead of the unit's:
      an auditor's read key for the collector's read routes (docs/COLLECTOR.md). A running collector
      stops accepting a revoked key within 5 s.

The first key: on a new installation no key exists and the api answers 401 to everything but
/healthz and /readyz. Run "fieldproof keys create --scopes read,write,admin" with the same
API_DB_URL as the api (migrates the database first if needed).`,
  example: `fieldproof keys create --scopes read,write,admin --label ops-laptop
API_DB_URL=sqlite:///var/lib/fieldproof/fieldproof.sqlite3 fieldproof keys create --scopes write --label unit-7 --json
COLLECTOR_DB_URL=postgres://collector@db/collector fieldproof keys create --collector --scopes read --label auditor`,
  options: {
    scopes: { type: 'string' },
    label: { type: 'string' },
    json: { type: 'boolean' },
    collector: { type: 'boolean' },
  },
  async run({ positionals, values, env, cwd, stdout, stderr }) {
    const [sub, ...rest] = positionals;
    if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') {
      throw new UsageError(
        sub === undefined
          ? 'missing sub-command (create, list or revoke)'
          : `unknown keys sub-command "${sub}"`,
      );
    }
    const json = values.json === true;
    let scopes: ReturnType<typeof parseScopeList> = [];
    if (sub === 'create') {
      if (typeof values.scopes !== 'string')
        throw new UsageError('--scopes is required (e.g. --scopes read,write)');
      try {
        scopes = parseScopeList(values.scopes);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (typeof values.label === 'string' && values.label.length > 128)
        throw new UsageError('--label is longer than 128 characters');
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    }
    if (sub === 'revoke' && rest.length !== 1) throw new UsageError('revoke takes exactly one key id');
    if (sub === 'list' && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);

    const collector = values.collector === true;
    let database: Database;
    let cacheMs: number;
    if (collector) {
      // Loaded only here: the unit's `keys` does not pay for the collector's modules.
      const { COLLECTOR_MIGRATIONS_DIR, createCollectorDatabase } = await import('@fieldproof/collector');
      const config = loadCollectorConfig(env, cwd);
      database = createCollectorDatabase(config.database.target, {
        sqlite: config.database.sqlite,
        postgresPoolMax: 1,
      }).database;
      cacheMs = 5_000;
      await migrateOrClose(database, { dir: COLLECTOR_MIGRATIONS_DIR });
    } else {
      const { config } = loadConfig(env, cwd);
      database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
      cacheMs = config.api.keyCacheTtlMs;
      await migrateOrClose(database);
    }
    const server = collector ? 'collector' : 'api';
    try {
      if (sub === 'create') {
        const key = createApiKeySecret();
        const record = {
          id: newId(),
          keyHash: hashApiKey(key),
          label: typeof values.label === 'string' ? values.label : null,
          scopes,
          createdAt: Date.now(),
        };
        await insertApiKey(database.db, record);
        if (json) {
          stdout.write(
            `${JSON.stringify({ id: record.id, key, scopes, label: record.label, createdAt: record.createdAt })}\n`,
          );
        } else {
          stdout.write(
            `created API key ${record.id} (scopes: ${scopes.join(',')}${record.label === null ? '' : `; label: ${record.label}`})\n\n` +
              `  ${key}\n\n` +
              'Store it now: it is not shown again (the database keeps only its SHA-256).\n',
          );
        }
        return 0;
      }
      if (sub === 'list') {
        const keys = (await listApiKeys(database.db)).map((k) => ({
          id: k.id,
          scopes: parseScopes(k.scopes),
          label: k.label,
          createdAt: Number(k.created_at),
          revokedAt: k.revoked_at === null ? null : Number(k.revoked_at),
        }));
        if (json) {
          stdout.write(`${JSON.stringify(keys)}\n`);
        } else if (keys.length === 0) {
          stdout.write('no API keys (create one: fieldproof keys create --scopes read,write,admin)\n');
        } else {
          for (const k of keys) {
            const state = k.revokedAt === null ? 'active ' : 'revoked';
            stdout.write(
              `${k.id}  ${state}  ${k.scopes.join(',').padEnd(16)}  ${new Date(k.createdAt).toISOString()}  ${k.label ?? ''}\n`,
            );
          }
        }
        return 0;
      }
      const id = rest[0]!;
      if (await revokeApiKey(database.db, id, Date.now())) {
        stdout.write(
          `revoked API key ${id}; a running ${server} refuses it within ${Math.ceil(cacheMs / 1000)} s\n`,
        );
        return 0;
      }
      stderr.write(`fieldproof keys: no active key ${id} (see fieldproof keys list)\n`);
      return 1;
    } finally {
      await database.close();
    }
  },
};

async function migrateOrClose(database: Database, options?: MigrateOptions): Promise<void> {
  try {
    await migrate(database, options);
  } catch (err) {
    await database.close();
    throw err;
  }
}
