import { buildApp, createApiKeySecret, hashApiKey } from '@fieldproof/api';
import type { BuildAppOptions } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
import type { FieldproofConfig } from '@fieldproof/config';
import { insertApiKey, newId } from '@fieldproof/db';
import type { ApiScope, Database, Engine } from '@fieldproof/db';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, tempDir } from './databases.js';

/** An app on a fresh, migrated database of `engine`, with one key per scope set. */
export interface TestApi {
  readonly app: FastifyInstance;
  readonly database: Database;
  readonly config: FieldproofConfig;
  readonly dataDir: string;
  /** Authorization headers of keys with exactly these scopes. */
  readonly auth: { readonly read: AuthHeader; readonly write: AuthHeader; readonly admin: AuthHeader };
  close(): Promise<void>;
}

export type AuthHeader = { authorization: string };

/** Settings for tests (see testApiEnv); `env` overrides any (e.g. { API_CONTENT_LIMIT_BYTES: '1024' }). */
export async function createTestApi(
  engine: Engine,
  env: Record<string, string> = {},
  options: Pick<BuildAppOptions, 'now' | 'logger' | 'eventLoopDelay'> = {},
): Promise<TestApi> {
  const database = await createTestDatabase(engine);
  const dataDir = tempDir('fieldproof-api-');
  const { config } = loadConfig({
    API_DB_URL: database.target.url,
    FIELDPROOF_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    API_RATE_LIMIT_PER_MINUTE: '100000',
    ...testApiEnv(),
    ...env,
  });
  const auth = {
    read: await createKey(database, ['read']),
    write: await createKey(database, ['write']),
    admin: await createKey(database, ['admin']),
  };
  const app = await buildApp({ config, database, ...options });
  await app.ready();
  return {
    app,
    database,
    config,
    dataDir,
    auth,
    async close() {
      await app.close();
      await database.close();
    },
  };
}

/** Inserts a new key with these scopes; returns its Authorization header. */
export async function createKey(database: Database, scopes: ApiScope[]): Promise<AuthHeader> {
  const secret = createApiKeySecret();
  await insertApiKey(database.db, {
    id: newId(),
    keyHash: hashApiKey(secret),
    label: scopes.join('+'),
    scopes,
    createdAt: Date.now(),
  });
  return { authorization: `Bearer ${secret}` };
}

/** A random 64-hex digest. */
export function randomDigest(): string {
  let s = '';
  for (let i = 0; i < 64; i++) s += '0123456789abcdef'[Math.floor(Math.random() * 16)];
  return s;
}

/** A loosely typed JSON answer, for tests: `res.json<ApiJson>()`. */
export interface ApiJson {
  [field: string]: unknown;
  id: string;
  code: string;
  message: string;
  statusCode: number;
  digest: string;
  evidenceId: string;
  status: string;
  leafIndex: number | null;
  items: ApiJson[];
  nextCursor: string | null;
}

/**
 * Settings every in-process test app starts from (spread them first, then the test's own): load shedding
 * on event-loop delay is off. On a loaded 2-core machine, or under qemu (deploy/arm64/cross-test.sh), a
 * healthy test's event loop lags past any fixed threshold, and requests that have nothing to do with
 * shedding were answered 503 (issue 11 item 18). Tests of shedding set API_MAX_EVENT_LOOP_DELAY_MS
 * themselves (packages/api/test/ops.test.ts).
 */
export function testApiEnv(): Record<string, string> {
  return { API_MAX_EVENT_LOOP_DELAY_MS: '0' };
}

/** @deprecated The earlier name of testApiEnv, kept so that tests written against it still build. */
export const emulationOverrides = testApiEnv;
