import path from 'node:path';
import { parseDatabaseUrl } from '@fieldproof/db';
import type { DatabaseTarget, SqliteOptions, SqliteSynchronous } from '@fieldproof/db';
import { ConfigError } from './config-error.js';
import { deepFreeze, int, nonEmpty, oneOf, resolveDataDir } from './load-config.js';
import type { Env, LogLevel } from './load-config.js';
import { MIB, SECOND } from './units.js';

/** The collector's database when COLLECTOR_DB_URL is unset: a single small SQLite instance. */
export const DEFAULT_COLLECTOR_DB_URL = 'sqlite://fieldproof-collector.sqlite3';

/**
 * The collector's default data folder's name: beside its SQLite database file, or in the working folder
 * on PostgreSQL — the unit's FIELDPROOF_DATA_DIR rule (`fieldproof-data/`), with the collector's name.
 */
export const DEFAULT_COLLECTOR_DATA_DIR_NAME = 'fieldproof-collector-data';

/** The collector's configuration (`fieldproof collector`), validated and frozen. Holds no secret. */
export interface CollectorConfig {
  /** COLLECTOR_DB_URL: its own database, not part of the unit's URL chain (API_DB_URL/KEEPER_DB_URL). */
  readonly database: {
    readonly target: DatabaseTarget;
    readonly sqlite: SqliteOptions;
    /** Connections per replica at most (PostgreSQL). */
    readonly poolMax: number;
  };
  /** COLLECTOR_DATA_DIR: mirrored content files and, by default, the witness key. */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly host: string;
  readonly port: number;
  readonly witness: {
    /** COLLECTOR_WITNESS_KEY_FILE: the Ed25519 witness key (created 0600 on first start). */
    readonly keyFile: string;
    /** COLLECTOR_WITNESS_NAME: the cosigner name in cosignature lines and the verifier key. */
    readonly name: string;
  };
  /** A push body at most this large once decompressed. */
  readonly bodyLimitBytes: number;
  /** One content file at most this large. */
  readonly contentLimitBytes: number;
  /** Leaves per push at most. */
  readonly pushMaxLeaves: number;
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
}

/** Reads the collector's settings from `env`. Throws ConfigError / DatabaseUrlError naming the variable. */
export function loadCollectorConfig(env: Env, cwd: string = process.cwd()): CollectorConfig {
  const url = nonEmpty(env.COLLECTOR_DB_URL);
  const target = parseDatabaseUrl(
    url ?? DEFAULT_COLLECTOR_DB_URL,
    url === undefined ? 'default' : 'COLLECTOR_DB_URL',
    cwd,
  );
  const dataDir = resolveDataDir(
    nonEmpty(env.COLLECTOR_DATA_DIR),
    target,
    DEFAULT_COLLECTOR_DATA_DIR_NAME,
    cwd,
  );
  const name = nonEmpty(env.COLLECTOR_WITNESS_NAME) ?? 'fieldproof-collector';
  // eslint-disable-next-line no-control-regex
  if (/[\s+\u0000-\u001f\u007f]/u.test(name) || name.length > 255) {
    throw new ConfigError(
      'COLLECTOR_WITNESS_NAME',
      'must be at most 255 characters without spaces, "+" or control characters',
    );
  }
  const config: CollectorConfig = {
    database: {
      target,
      sqlite: {
        busyTimeoutMs: int(env, 'FIELDPROOF_SQLITE_BUSY_TIMEOUT_MS', 15 * SECOND, 0),
        synchronous: oneOf<SqliteSynchronous>(
          env,
          'FIELDPROOF_SQLITE_SYNCHRONOUS',
          ['FULL', 'EXTRA', 'NORMAL', 'OFF'],
          'FULL',
        ),
      },
      poolMax: int(env, 'COLLECTOR_DB_POOL_MAX', 4, 1, 100),
    },
    dataDir,
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    host: nonEmpty(env.COLLECTOR_HOST) ?? '127.0.0.1',
    port: int(env, 'COLLECTOR_PORT', 8082, 0, 65535),
    witness: {
      keyFile: path.resolve(
        cwd,
        nonEmpty(env.COLLECTOR_WITNESS_KEY_FILE) ?? path.join(dataDir, 'witness.key'),
      ),
      name,
    },
    bodyLimitBytes: int(env, 'COLLECTOR_BODY_LIMIT_BYTES', 32 * MIB, 1024),
    contentLimitBytes: int(env, 'COLLECTOR_CONTENT_LIMIT_BYTES', 64 * MIB, 1),
    pushMaxLeaves: int(env, 'COLLECTOR_PUSH_MAX_LEAVES', 10_000, 1, 1_000_000),
    requestTimeoutMs: int(env, 'COLLECTOR_REQUEST_TIMEOUT_MS', 60 * SECOND, 100),
    shutdownTimeoutMs: int(env, 'COLLECTOR_SHUTDOWN_TIMEOUT_MS', 30 * SECOND, 0),
  };
  return deepFreeze(config);
}
