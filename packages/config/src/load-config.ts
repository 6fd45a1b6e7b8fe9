import path from 'node:path';
import { DatabaseUrlError, resolveDatabaseUrl } from '@fieldproof/db';
import type { DatabaseTarget, SqliteOptions, SqliteSynchronous } from '@fieldproof/db';
import { parseChains } from './chains.js';
import type { ChainConfig } from './chains.js';
import { parseCollectors } from './collectors.js';
import type { CollectorTarget } from './collectors.js';
import { ConfigError } from './config-error.js';
import { KIB, MIB, MINUTE, SECOND } from './units.js';

/**
 * KEEPER_PROVIDER: `stub` anchors nowhere; `evm` / `multi` anchor on KEEPER_CHAINS with the unit's own
 * signer key; `collector` holds no chain key and reaches no chain: its checkpoints are anchored through
 * the fleet collectors of KEEPER_COLLECTORS that have a `fleetKey` (issue 16, docs/COLLECTOR.md).
 */
export type ProviderKind = 'stub' | 'evm' | 'multi' | 'collector';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Everything configurable, validated and frozen. Holds no secret: see `Secrets`. */
export interface FieldproofConfig {
  readonly database: { readonly target: DatabaseTarget; readonly sqlite: SqliteOptions };
  /**
   * Folder for the device key, stored content, backups and replaced files (FIELDPROOF_DATA_DIR). Default:
   * `fieldproof-data/` beside the SQLite database file (in the working folder on PostgreSQL), so that
   * nothing but the database files lands beside the database — in a clone, one `git add .` away.
   */
  readonly dataDir: string;
  /**
   * The folder that was the default data folder before `fieldproof-data/` (the SQLite database's own
   * folder), when FIELDPROOF_DATA_DIR is not set: `moveLegacyData` moves a device key, content and
   * backups found there into `dataDir`. Undefined when FIELDPROOF_DATA_DIR is set or on PostgreSQL.
   */
  readonly legacyDataDir: string | undefined;
  readonly logLevel: LogLevel;
  readonly device: {
    /** The device's Ed25519 checkpoint-signing key file (created 0600 on first start). */
    readonly keyFile: string;
    /** The checkpoint origin line; default derived from the device key and fixed on first start. */
    readonly origin: string | undefined;
  };
  readonly api: {
    readonly host: string;
    readonly port: number;
    /** JSON body limit. */
    readonly bodyLimitBytes: number;
    /** Raw evidence content limit (application/octet-stream). */
    readonly contentLimitBytes: number;
    readonly metadataLimitBytes: number;
    readonly requestTimeoutMs: number;
    /** Requests per key per minute before 429. */
    readonly rateLimitPerMinute: number;
    /** Requests per client address per minute before 429, counted before authentication. */
    readonly rateLimitPerAddressPerMinute: number;
    /** Group commit: at most this many writes per transaction. */
    readonly groupCommitMaxBatch: number;
    /** Shed load (503) when this many writes wait for a commit. */
    readonly maxPendingWrites: number;
    /** Shed load (503) when the event loop lags more than this; 0: never on this ground. */
    readonly maxEventLoopDelayMs: number;
    /** How long an API key lookup is cached in memory: a revoked key stops working within this long. */
    readonly keyCacheTtlMs: number;
    /** On SIGTERM, give in-flight requests and pending commits this long before closing anyway. */
    readonly shutdownTimeoutMs: number;
    /** API_DOCS: serve the OpenAPI document and its UI at /docs (loads @fastify/swagger and swagger-ui). */
    readonly docs: boolean;
  };
  readonly keeper: {
    readonly host: string;
    readonly port: number;
    readonly pollMs: number;
    readonly confirmPollMs: number;
    readonly provider: ProviderKind;
    readonly chains: readonly ChainConfig[];
    readonly batchMaxLeaves: number;
    readonly batchMaxWaitMs: number;
    /** Leaves sequenced per transaction at most. */
    readonly sequenceBatchMax: number;
    readonly maxAttempts: number;
    readonly backoffBaseMs: number;
    readonly backoffMaxMs: number;
    readonly leaseMs: number;
    /** /readyz fails when a chain's RPC has been failing this long. */
    readonly rpcDownReadyMs: number;
    /** One JSON-RPC request to a chain gives up after this long (an ambiguous outcome: reconciled later). */
    readonly rpcTimeoutMs: number;
    /** node-cron expressions; undefined = off. */
    readonly cronBackup: string | undefined;
    readonly cronWalCheckpoint: string | undefined;
    /**
     * node-cron expression of the sweep that re-checks every final anchor against its chain (the newest
     * of each chain is re-checked every confirmation poll anyway); undefined = off (`off`).
     */
    readonly cronRecheckFinal: string | undefined;
    readonly backupKeep: number;
    /** KEEPER_COLLECTORS: the fleet collectors this unit pushes its log to (none by default). */
    readonly collectors: readonly CollectorTarget[];
  };
}

/** Secrets, kept apart from the config object so that logging the config can never leak them. */
export interface Secrets {
  /** KEEPER_SIGNER_KEY_FILE: the EVM signing key file (must be 0600). */
  readonly signerKeyFile: string | undefined;
  /** KEEPER_SIGNER_KEY: the EVM signing key itself, from a secret store. */
  readonly signerKey: string | undefined;
  /** FIELDPROOF_DEVICE_KEY: the device key itself, from a secret store (instead of the key file). */
  readonly deviceKey: string | undefined;
}

/** The default data folder's name, beside the database file (SPEC §10 FIELDPROOF_DATA_DIR). */
export const DEFAULT_DATA_DIR_NAME = 'fieldproof-data';

/**
 * The data-folder rule the unit and the collector share: the configured folder, else `name` beside a
 * SQLite database file, else (PostgreSQL: no database file) `name` in the working folder. Absolute.
 */
export function resolveDataDir(
  configured: string | undefined,
  target: DatabaseTarget,
  name: string,
  cwd: string,
): string {
  const databaseDir = target.engine === 'sqlite' ? path.dirname(target.path) : cwd;
  return path.resolve(cwd, configured ?? path.join(databaseDir, name));
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The one place `process.env` is turned into configuration. Throws ConfigError (or DatabaseUrlError) with
 * one line naming the variable. Opens and creates nothing.
 */
export function loadConfig(
  env: Env,
  cwd: string = process.cwd(),
): { config: FieldproofConfig; secrets: Secrets } {
  const target = resolveDatabaseUrl(env, cwd);
  const configuredDataDir = nonEmpty(env.FIELDPROOF_DATA_DIR);
  const databaseDir = target.engine === 'sqlite' ? path.dirname(target.path) : cwd;
  const dataDir = resolveDataDir(configuredDataDir, target, DEFAULT_DATA_DIR_NAME, cwd);
  const legacyDataDir =
    configuredDataDir === undefined && target.engine === 'sqlite' ? databaseDir : undefined;
  const provider = oneOf(env, 'KEEPER_PROVIDER', ['stub', 'evm', 'multi', 'collector'] as const, 'stub');
  const chains = parseChains(env.KEEPER_CHAINS, cwd);
  if (provider === 'evm' && chains.length !== 1) {
    throw new ConfigError(
      'KEEPER_PROVIDER',
      `"evm" needs exactly one chain in KEEPER_CHAINS (found ${chains.length})`,
    );
  }
  if (provider === 'multi' && chains.length < 1) {
    throw new ConfigError('KEEPER_PROVIDER', '"multi" needs at least one chain in KEEPER_CHAINS');
  }
  const config: FieldproofConfig = {
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
    },
    dataDir,
    legacyDataDir,
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    device: {
      keyFile: path.resolve(
        cwd,
        nonEmpty(env.FIELDPROOF_DEVICE_KEY_FILE) ?? path.join(dataDir, 'device.key'),
      ),
      origin: logOrigin(nonEmpty(env.FIELDPROOF_LOG_ORIGIN)),
    },
    api: {
      host: nonEmpty(env.API_HOST) ?? '127.0.0.1',
      port: int(env, 'API_PORT', 8080, 0, 65535),
      bodyLimitBytes: int(env, 'API_BODY_LIMIT_BYTES', 1 * MIB, 1 * KIB),
      contentLimitBytes: int(env, 'API_CONTENT_LIMIT_BYTES', 64 * MIB, 1),
      metadataLimitBytes: int(env, 'API_METADATA_LIMIT_BYTES', 16 * KIB, 64),
      requestTimeoutMs: int(env, 'API_REQUEST_TIMEOUT_MS', 30 * SECOND, 100),
      rateLimitPerMinute: int(env, 'API_RATE_LIMIT_PER_MINUTE', 6000, 1),
      rateLimitPerAddressPerMinute: int(env, 'API_RATE_LIMIT_PER_ADDRESS_PER_MINUTE', 60_000, 1),
      groupCommitMaxBatch: int(env, 'API_GROUP_COMMIT_MAX_BATCH', 256, 1, 10_000),
      maxPendingWrites: int(env, 'API_MAX_PENDING_WRITES', 4096, 1),
      maxEventLoopDelayMs: eventLoopDelay(env),
      keyCacheTtlMs: int(env, 'API_KEY_CACHE_MS', 5 * SECOND, 0, 60 * SECOND),
      shutdownTimeoutMs: int(env, 'API_SHUTDOWN_TIMEOUT_MS', 30 * SECOND, 0),
      // API_DOCS=off: no /docs, and @fastify/swagger(-ui) are never loaded (~10 MB less resident memory).
      docs: oneOf(env, 'API_DOCS', ['on', 'off'] as const, 'on') === 'on',
    },
    keeper: {
      host: nonEmpty(env.KEEPER_HTTP_HOST) ?? '127.0.0.1',
      port: int(env, 'KEEPER_HTTP_PORT', 8081, 0, 65535),
      pollMs: int(env, 'KEEPER_POLL_MS', 5 * SECOND, 10),
      confirmPollMs: int(env, 'KEEPER_CONFIRM_POLL_MS', 30 * SECOND, 10),
      provider,
      // Neither stub nor collector reaches a chain: KEEPER_CHAINS is not used (the keeper says so).
      chains: provider === 'stub' || provider === 'collector' ? [] : chains,
      batchMaxLeaves: int(env, 'KEEPER_BATCH_MAX_LEAVES', 1000, 1),
      batchMaxWaitMs: int(env, 'KEEPER_BATCH_MAX_WAIT_MS', 10 * MINUTE, 0),
      sequenceBatchMax: int(env, 'KEEPER_SEQUENCE_BATCH_MAX', 5000, 1),
      maxAttempts: int(env, 'KEEPER_MAX_ATTEMPTS', 12, 1),
      backoffBaseMs: int(env, 'KEEPER_BACKOFF_BASE_MS', 2 * SECOND, 1),
      backoffMaxMs: int(env, 'KEEPER_BACKOFF_MAX_MS', 10 * MINUTE, 1),
      leaseMs: int(env, 'KEEPER_LEASE_MS', 2 * MINUTE, 100),
      rpcDownReadyMs: int(env, 'KEEPER_RPC_DOWN_READY_MS', 15 * MINUTE, 0),
      rpcTimeoutMs: int(env, 'KEEPER_RPC_TIMEOUT_MS', 10 * SECOND, 50),
      cronBackup: nonEmpty(env.KEEPER_CRON_BACKUP),
      cronWalCheckpoint: nonEmpty(env.KEEPER_CRON_WAL_CHECKPOINT),
      cronRecheckFinal: cronOrOff(env.KEEPER_CRON_RECHECK_FINAL, DEFAULT_CRON_RECHECK_FINAL),
      backupKeep: int(env, 'FIELDPROOF_BACKUP_KEEP', 7, 1),
      collectors: parseCollectors(env.KEEPER_COLLECTORS, cwd),
    },
  };
  if (provider === 'collector' && !config.keeper.collectors.some((c) => c.fleetKey !== undefined)) {
    throw new ConfigError(
      'KEEPER_PROVIDER',
      '"collector" needs a KEEPER_COLLECTORS entry with a "fleetKey" (the collector\'s fleet key, printed by fieldproof collector-key)',
    );
  }
  if (config.keeper.backoffMaxMs < config.keeper.backoffBaseMs) {
    throw new ConfigError('KEEPER_BACKOFF_MAX_MS', 'must be ≥ KEEPER_BACKOFF_BASE_MS');
  }
  const secrets: Secrets = {
    signerKeyFile:
      nonEmpty(env.KEEPER_SIGNER_KEY_FILE) === undefined
        ? undefined
        : path.resolve(cwd, env.KEEPER_SIGNER_KEY_FILE!),
    signerKey: nonEmpty(env.KEEPER_SIGNER_KEY),
    deviceKey: nonEmpty(env.FIELDPROOF_DEVICE_KEY),
  };
  if (secrets.signerKey !== undefined && secrets.signerKeyFile !== undefined) {
    throw new ConfigError(
      'KEEPER_SIGNER_KEY',
      'set either KEEPER_SIGNER_KEY or KEEPER_SIGNER_KEY_FILE, not both',
    );
  }
  return { config: deepFreeze(config), secrets: Object.freeze(secrets) };
}

/** Turns the errors loadConfig throws into the one line an operator sees; undefined for anything else. */
export function configErrorLine(err: unknown): string | undefined {
  if (err instanceof ConfigError || err instanceof DatabaseUrlError) return `fieldproof: ${err.message}`;
  return undefined;
}

/**
 * FIELDPROOF_LOG_ORIGIN: the checkpoint origin line. C2SP tlog-checkpoint recommends a schema-less URL
 * without spaces or `+`; we require that, so the origin is also a valid signed-note key name.
 */
function logOrigin(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\s+\u0000-\u001f\u007f]/u.test(value) || value.length > 255) {
    throw new ConfigError(
      'FIELDPROOF_LOG_ORIGIN',
      'must be at most 255 characters without spaces, "+" or control characters (e.g. example.com/log/unit-7)',
    );
  }
  return value;
}

/** Daily at 03:17 (system time zone): a slow sweep of every final anchor; `off` turns it off. */
const DEFAULT_CRON_RECHECK_FINAL = '17 3 * * *';

function cronOrOff(value: string | undefined, fallback: string): string | undefined {
  const v = nonEmpty(value);
  if (v === undefined) return fallback;
  return v.toLowerCase() === 'off' ? undefined : v;
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * API_MAX_EVENT_LOOP_DELAY_MS: 0 turns the check off; otherwise at least 10 ms, the resolution of the
 * delay monitor (@fastify/under-pressure subtracts it from every reading).
 */
function eventLoopDelay(env: Env): number {
  const name = 'API_MAX_EVENT_LOOP_DELAY_MS';
  const ms = int(env, name, 1000, 0);
  if (ms > 0 && ms < 10) throw new ConfigError(name, `${ms} is out of range (0 = off, or 10 and more)`);
  return ms;
}

export function int(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `"${raw}" is not a whole number`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `${raw} is out of range (${min}..${max})`);
  }
  return n;
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const match = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
  if (match === undefined) throw new ConfigError(name, `"${raw}" is not one of ${allowed.join(', ')}`);
  return match;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
