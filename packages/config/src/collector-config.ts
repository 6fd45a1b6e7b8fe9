import path from 'node:path';
import { parseDatabaseUrl } from '@fieldproof/db';
import type { DatabaseTarget, SqliteOptions, SqliteSynchronous } from '@fieldproof/db';
import { ConfigError } from './config-error.js';
import { deepFreeze, int, loadConfig, nonEmpty, oneOf, resolveDataDir } from './load-config.js';
import type { Env, FieldproofConfig, LogLevel, Secrets } from './load-config.js';
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
  /**
   * Fleet anchoring (docs/COLLECTOR.md "Fleet anchoring"): on when KEEPER_PROVIDER is `evm` or `multi`,
   * else undefined and the collector anchors nothing.
   */
  readonly fleet: FleetConfig | undefined;
}

/**
 * The fleet log: a unit-shaped log (the unit's migrations) the collector keeps of the device checkpoints
 * it cosigned, sequenced and anchored by the keeper's own code in the collector process.
 */
export interface FleetConfig {
  /** COLLECTOR_FLEET_ORIGIN: the fleet log's checkpoint origin (default `<witness name>/fleet`). */
  readonly origin: string;
  /**
   * The keeper settings the fleet log runs with: the KEEPER_* variables read as a keeper reads them, the
   * database the fleet database (see {@link fleetDatabaseUrl}), the device key the witness key file
   * (under its own name) and the origin {@link origin}; no collectors of its own.
   */
  readonly keeper: FieldproofConfig;
}

/** The PostgreSQL schema of the fleet log when COLLECTOR_FLEET_DB_URL is unset and COLLECTOR_DB_URL is PostgreSQL. */
export const FLEET_SCHEMA = 'fleet';

/**
 * Where the fleet log lives unless COLLECTOR_FLEET_DB_URL says otherwise: on PostgreSQL the schema
 * {@link FLEET_SCHEMA} of the collector's own database (its URL with `search_path=fleet`); on SQLite the
 * file beside the collector's, `<name>-fleet.sqlite3`.
 */
export function fleetDatabaseUrl(collector: DatabaseTarget): string {
  if (collector.engine === 'postgres') {
    const url = new URL(collector.url);
    url.searchParams.set('options', `-c search_path=${FLEET_SCHEMA}`);
    return url.toString();
  }
  const base = collector.path.replace(/\.(sqlite3?|db)$/u, '');
  return `sqlite://${encodeURI(`${base}-fleet.sqlite3`)}`;
}

/** Reads the collector's settings from `env`. Throws ConfigError / DatabaseUrlError naming the variable. */
export function loadCollectorConfig(env: Env, cwd: string = process.cwd()): CollectorConfig {
  return loadCollectorSettings(env, cwd).config;
}

/**
 * The collector's settings and, apart from them, the secrets of its fleet anchoring (KEEPER_SIGNER_KEY /
 * KEEPER_SIGNER_KEY_FILE; all undefined without fleet anchoring).
 */
export function loadCollectorSettings(
  env: Env,
  cwd: string = process.cwd(),
): { config: CollectorConfig; secrets: Secrets } {
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
  const witnessKeyFile = path.resolve(
    cwd,
    nonEmpty(env.COLLECTOR_WITNESS_KEY_FILE) ?? path.join(dataDir, 'witness.key'),
  );
  const fleet = loadFleet(env, cwd, { target, dataDir, witnessKeyFile, witnessName: name });
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
    witness: { keyFile: witnessKeyFile, name },
    bodyLimitBytes: int(env, 'COLLECTOR_BODY_LIMIT_BYTES', 32 * MIB, 1024),
    contentLimitBytes: int(env, 'COLLECTOR_CONTENT_LIMIT_BYTES', 64 * MIB, 1),
    pushMaxLeaves: int(env, 'COLLECTOR_PUSH_MAX_LEAVES', 10_000, 1, 1_000_000),
    requestTimeoutMs: int(env, 'COLLECTOR_REQUEST_TIMEOUT_MS', 60 * SECOND, 100),
    shutdownTimeoutMs: int(env, 'COLLECTOR_SHUTDOWN_TIMEOUT_MS', 30 * SECOND, 0),
    fleet: fleet?.config,
  };
  return { config: deepFreeze(config), secrets: fleet?.secrets ?? NO_SECRETS };
}

const NO_SECRETS: Secrets = Object.freeze({
  signerKeyFile: undefined,
  signerKey: undefined,
  deviceKey: undefined,
});

/**
 * The fleet log's settings when KEEPER_PROVIDER is `evm` or `multi`: the keeper's own loader over the
 * collector's environment, with the fleet database, the witness key file as its signing key and the
 * fleet origin put in place of the unit's variables (so every KEEPER_* setting means what it means on a
 * unit, validated by the same code).
 */
function loadFleet(
  env: Env,
  cwd: string,
  collector: {
    readonly target: DatabaseTarget;
    readonly dataDir: string;
    readonly witnessKeyFile: string;
    readonly witnessName: string;
  },
): { config: FleetConfig; secrets: Secrets } | undefined {
  const provider = nonEmpty(env.KEEPER_PROVIDER)?.toLowerCase();
  if (provider !== 'evm' && provider !== 'multi') return undefined;
  const origin = nonEmpty(env.COLLECTOR_FLEET_ORIGIN) ?? `${collector.witnessName}/fleet`;
  // eslint-disable-next-line no-control-regex
  if (/[\s+\u0000-\u001f\u007f]/u.test(origin) || origin.length > 255) {
    throw new ConfigError(
      'COLLECTOR_FLEET_ORIGIN',
      'must be at most 255 characters without spaces, "+" or control characters',
    );
  }
  const url = nonEmpty(env.COLLECTOR_FLEET_DB_URL) ?? fleetDatabaseUrl(collector.target);
  const variable =
    nonEmpty(env.COLLECTOR_FLEET_DB_URL) === undefined ? 'COLLECTOR_DB_URL' : 'COLLECTOR_FLEET_DB_URL';
  parseDatabaseUrl(url, variable, cwd);
  const { config, secrets } = loadConfig(
    {
      ...env,
      API_DB_URL: url,
      KEEPER_DB_URL: undefined,
      FIELDPROOF_DATA_DIR: path.join(collector.dataDir, 'fleet'),
      FIELDPROOF_DEVICE_KEY_FILE: collector.witnessKeyFile,
      FIELDPROOF_DEVICE_KEY: undefined,
      FIELDPROOF_LOG_ORIGIN: origin,
      KEEPER_COLLECTORS: undefined,
    },
    cwd,
  );
  return { config: { origin, keeper: config }, secrets };
}
