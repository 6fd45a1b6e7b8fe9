import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildApp } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
import {
  LOG_META,
  createApiKeySecret,
  createDatabase,
  hashApiKey,
  initLogMeta,
  insertApiKey,
  migrate,
  newId,
} from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { createCollectorPusher, createSequencer } from '@fieldproof/keeper';
import type { DeviceIdentity, KeeperDeps } from '@fieldproof/keeper';
import { generateDeviceKey } from '@fieldproof/note';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { enrollFleet } from '../../bench/lib/fleet.mjs';
import type { FleetUnit } from '../../bench/lib/fleet.mjs';
import type { ReceiptV2 } from '@fieldproof/receipt';
import { tempDir } from './databases.js';

/**
 * A field unit on a SQLite file, run in-process the way `fieldproof start` runs it: the api taking
 * evidence (digest and raw bytes), the keeper's sequencer signing checkpoints with the unit's key, and the
 * keeper's push outbox to one collector (KEEPER_COLLECTORS). `close()` releases the database so that
 * `fieldproof backup` / `restore` can run against it; `open()` starts it again on whatever the file holds.
 */
export class PushingUnit {
  readonly dir = tempDir('fieldproof-unit-');
  readonly dataDir = path.join(this.dir, 'fieldproof-data');
  readonly url = `sqlite://${path.join(this.dir, 'unit.sqlite3')}`;
  readonly device: DeviceIdentity;
  readonly env: Record<string, string>;
  clock = 1_765_000_000_000;
  #database: Database | undefined;
  #app: FastifyInstance | undefined;
  #writeKey = '';
  #deps: KeeperDeps | undefined;
  #sequencer: ReturnType<typeof createSequencer> | undefined;
  #pusher: ReturnType<typeof createCollectorPusher> | undefined;
  /** The push outbox's HTTP client. */
  readonly fetch: typeof globalThis.fetch;

  constructor(
    readonly origin: string,
    collector: {
      readonly url: string;
      readonly pushKey: string;
      readonly witnessKey: string;
      /** The collector's fleet key: the unit fetches fleet proofs from it (issue 16). */
      readonly fleetKey?: string;
    },
    options: {
      /** The push outbox's HTTP client (default: global fetch); tests wrap it to see what is sent. */
      readonly fetch?: typeof globalThis.fetch;
      /** More keeper/api settings (KEEPER_PROVIDER=collector, …). */
      readonly env?: Record<string, string>;
    } = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    const key = generateDeviceKey(origin);
    this.device = { key, origin, verifierKey: key.verifierKey, source: { kind: 'secret' } };
    const keyFile = path.join(this.dir, 'collector.key');
    fs.writeFileSync(keyFile, `${collector.pushKey}\n`, { mode: 0o600 });
    this.env = {
      API_DB_URL: this.url,
      FIELDPROOF_DATA_DIR: this.dataDir,
      LOG_LEVEL: 'silent',
      API_RATE_LIMIT_PER_MINUTE: '100000',
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
      KEEPER_SEQUENCE_BATCH_MAX: '5',
      KEEPER_COLLECTORS: JSON.stringify([
        {
          name: 'fleet',
          url: collector.url,
          apiKeyFile: keyFile,
          witnessKey: collector.witnessKey,
          ...(collector.fleetKey === undefined ? {} : { fleetKey: collector.fleetKey }),
        },
      ]),
      ...options.env,
    };
  }

  get database(): Database {
    return this.#database!;
  }

  /** The unit's api (in-process, `inject`), and a key with scopes read and write. */
  get app(): FastifyInstance {
    return this.#app!;
  }

  get readKey(): string {
    return this.#writeKey;
  }

  /** The keeper's push outbox to the collector (and its fleet-proof fetcher). */
  get pusher(): ReturnType<typeof createCollectorPusher> {
    return this.#pusher!;
  }

  async open(): Promise<void> {
    const { config, secrets } = loadConfig(this.env, this.dir);
    const database = createDatabase(config.database.target);
    await migrate(database);
    this.#database = database;
    // What openDeviceIdentity records on a keeper's first start: receipts name this key.
    await initLogMeta(database.db, LOG_META.verifierKey, this.device.verifierKey, this.clock);
    await initLogMeta(database.db, LOG_META.origin, this.origin, this.clock);
    this.#writeKey = createApiKeySecret();
    await insertApiKey(database.db, {
      id: newId(),
      keyHash: hashApiKey(this.#writeKey),
      label: null,
      scopes: ['read', 'write'],
      createdAt: this.clock,
    });
    this.#app = await buildApp({ config, database, now: () => this.clock });
    await this.#app.ready();
    this.#deps = {
      database,
      config,
      secrets,
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      now: () => this.clock,
    };
    this.#sequencer = createSequencer(this.#deps, this.device);
    this.#pusher = createCollectorPusher(this.#deps, config.keeper.collectors[0]!, {
      maxLeaves: 7,
      random: () => 1,
      anchorScanMs: 0, // a caught-up push() looks for anchors every round
      fetch: this.fetch,
      fleetPollMs: 0, // and for fleet proofs
    });
  }

  /** Records `n` evidence (every third one raw bytes the unit keeps), sequences it; returns the ids. */
  async record(n: number, tag = ''): Promise<{ id: string; digest: string; bytes?: Buffer }[]> {
    const out: { id: string; digest: string; bytes?: Buffer }[] = [];
    for (let i = 0; i < n; i++) {
      this.clock += 1000;
      if (i % 3 === 1) {
        const bytes = Buffer.from(`raw capture ${tag} ${i} ${this.clock}\n`);
        const res = await this.#app!.inject({
          method: 'POST',
          url: `/v1/evidence?kind=capture&occurredAt=${this.clock}&payloadMime=image/png`,
          headers: { authorization: `Bearer ${this.#writeKey}`, 'content-type': 'application/octet-stream' },
          payload: bytes,
        });
        expect(res.statusCode, res.body).toBe(201);
        out.push({ id: res.json<{ id: string }>().id, digest: res.json<{ digest: string }>().digest, bytes });
      } else {
        const digest = createHash('sha256').update(`${tag} ${i} ${this.clock}`).digest('hex');
        const res = await this.#app!.inject({
          method: 'POST',
          url: '/v1/evidence',
          headers: { authorization: `Bearer ${this.#writeKey}` },
          payload: { kind: 'detection', digest, occurredAt: this.clock, metadata: { band: 'L1', n: i, tag } },
        });
        expect(res.statusCode, res.body).toBe(201);
        out.push({ id: res.json<{ id: string }>().id, digest });
      }
    }
    while (await this.#sequencer!.runOnce()) this.clock += 10;
    return out;
  }

  /** Enrolls this unit on the collector database `dbUrl` and writes its push key to its key file (before `open()`). */
  async enroll(dbUrl: string): Promise<void> {
    const enrolled = { origin: this.origin, key: { verifierKey: this.device.verifierKey }, pushKey: '' };
    // enrollFleet reads only origin and key.verifierKey of its units, and sets pushKey.
    await enrollFleet(dbUrl, [enrolled as unknown as FleetUnit]);
    fs.writeFileSync(path.join(this.dir, 'collector.key'), `${enrolled.pushKey}\n`, { mode: 0o600 });
  }

  /** A record's status as the unit's api tells it (`GET /v1/evidence/:id`). */
  async statusOf(id: string): Promise<string> {
    const res = await this.app.inject({
      method: 'GET',
      url: `/v1/evidence/${id}`,
      headers: { authorization: `Bearer ${this.readKey}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ status: string }>().status;
  }

  /** A record's receipt as the unit's api serves it (`GET /v1/evidence/:id/receipt`). */
  async receiptOf(id: string): Promise<ReceiptV2> {
    const res = await this.app.inject({
      method: 'GET',
      url: `/v1/evidence/${id}/receipt`,
      headers: { authorization: `Bearer ${this.readKey}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<ReceiptV2>();
  }

  /** Runs the push outbox until it has nothing more to do (or stops on a refusal). */
  async push(): Promise<void> {
    for (let i = 0; i < 200 && (await this.#pusher!.runOnce()); i++) this.clock += 10;
  }

  async close(): Promise<void> {
    await this.#app?.close();
    await this.#database?.close();
    this.#app = undefined;
    this.#database = undefined;
  }
}
