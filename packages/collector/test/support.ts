import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { loadCollectorConfig } from '@fieldproof/config';
import type { CollectorConfig } from '@fieldproof/config';
import type { Engine } from '@fieldproof/db';
import { newId, parseDatabaseUrl } from '@fieldproof/db';
import { MemoryTree, toHex } from '@fieldproof/merkle';
import { createCosigner, generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import type { Cosigner, DeviceKey } from '@fieldproof/note';
import { leafHashOf } from '@fieldproof/receipt';
import type { EvidenceRecord, JsonObject } from '@fieldproof/receipt';
import type { FastifyBaseLogger, FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildCollectorApp, enrollDevice, openCollectorDatabase } from '../src/index.js';
import type { CollectorDatabase, PushRequest, PushedLeaf } from '../src/index.js';
import { freshDatabaseUrl, tempDir } from '../../../test/support/databases.js';

/**
 * A field unit as the collector sees it, built from the packages a unit runs: records encoded as
 * fieldproof-leaf/v1 leaves (receipt), appended to an RFC 6962 tree (merkle), checkpoints signed as C2SP
 * signed notes by an Ed25519 device key (note). `fork(size)` is the unit restored from an old backup:
 * the same key and the first `size` records, and from then on its own history.
 */
export class SimulatedUnit {
  readonly tree = new MemoryTree();
  readonly leaves: PushedLeaf[] = [];
  /** The signed checkpoint of each size this unit signed. */
  readonly checkpoints = new Map<number, string>();
  readonly content = new Map<string, Buffer>();

  constructor(
    readonly key: DeviceKey = generateDeviceKey('fieldproof.test/log/unit-1'),
    readonly origin: string = key.name,
  ) {}

  /**
   * Records `count` evidence and signs the checkpoint of the grown tree. `withContent`: raw bytes kept;
   * `shape`: changes each record before it is hashed (its digest and content stay as made).
   */
  record(
    count: number,
    options: {
      readonly withContent?: boolean;
      readonly tag?: string;
      readonly shape?: (record: EvidenceRecord, n: number) => EvidenceRecord;
    } = {},
  ): string {
    for (let i = 0; i < count; i++) {
      const n = this.tree.treeSize;
      const bytes = Buffer.from(`evidence ${n} ${options.tag ?? ''} ${newId()}\n`);
      const digest = createHash('sha256').update(bytes).digest('hex');
      const metadata: JsonObject | null = n % 3 === 0 ? { n, band: 'L1', site: { lat: 48.1 } } : null;
      const made: EvidenceRecord = {
        id: newId(),
        digest,
        kind: n % 2 === 0 ? 'detection' : 'jamming-operation',
        occurredAt: 1_760_000_000_000 + n,
        receivedAt: 1_760_000_000_500 + n,
        payloadMime: options.withContent === true ? 'image/jpeg' : null,
        metadata,
      };
      const record = options.shape?.(made, n) ?? made;
      const leafHash = leafHashOf(record);
      this.tree.append([leafHash]);
      this.leaves.push({
        leafIndex: n,
        leafHash: toHex(leafHash),
        record,
        content: options.withContent === true,
      });
      if (options.withContent === true) this.content.set(digest, bytes);
    }
    const note = signCheckpoint(
      { origin: this.origin, treeSize: this.tree.treeSize, root: this.tree.root() },
      this.key,
    );
    this.checkpoints.set(this.tree.treeSize, note);
    return note;
  }

  /** The push of the checkpoint of `treeSize` (default: newest), leaves from `fromLeaf`, proof from `proofFrom`. */
  push(
    options: { readonly treeSize?: number; readonly fromLeaf?: number; readonly proofFrom?: number } = {},
  ): PushRequest {
    const treeSize = options.treeSize ?? this.tree.treeSize;
    const checkpoint = this.checkpoints.get(treeSize);
    if (checkpoint === undefined) throw new Error(`the unit signed no checkpoint of size ${treeSize}`);
    const from = options.proofFrom;
    return {
      checkpoint,
      ...(from !== undefined && from > 0
        ? {
            consistency: {
              fromTreeSize: from,
              proof: this.tree.consistencyProof(from, treeSize).map((h) => Buffer.from(h).toString('base64')),
            },
          }
        : {}),
      leaves: this.leaves.slice(options.fromLeaf ?? from ?? 0, treeSize),
    };
  }

  /** This unit restored from a backup holding its first `size` records: same key, history diverges next. */
  fork(size: number): SimulatedUnit {
    const fork = new SimulatedUnit(this.key, this.origin);
    fork.tree.append(this.leaves.slice(0, size).map((l) => Buffer.from(l.leafHash, 'hex')));
    fork.leaves.push(...this.leaves.slice(0, size));
    for (const [s, note] of this.checkpoints) if (s <= size) fork.checkpoints.set(s, note);
    return fork;
  }
}

export interface TestCollector {
  readonly app: FastifyInstance;
  readonly collector: CollectorDatabase;
  readonly cosigner: Cosigner;
  readonly config: CollectorConfig;
  /** Enrolls `unit`; returns its push key. */
  enroll(unit: { readonly origin: string; readonly key: { readonly verifierKey: string } }): Promise<string>;
  close(): Promise<void>;
}

/** A fresh collector database URL of this engine (a new PostgreSQL database, or a temp SQLite file). */
export async function collectorDatabaseUrl(engine: Engine): Promise<string> {
  return freshDatabaseUrl(engine);
}

/** A collector app (not listening) on `url`, migrated by the real migrator, with an in-memory witness key. */
export async function createTestCollector(
  url: string,
  options: {
    readonly cosigner?: Cosigner;
    readonly now?: () => number;
    readonly logger?: FastifyBaseLogger;
    readonly pushProtocol?: 1 | 2;
  } = {},
): Promise<TestCollector> {
  const dir = tempDir('fieldproof-collector-');
  const config = loadCollectorConfig(
    {
      COLLECTOR_DB_URL: url,
      COLLECTOR_DATA_DIR: dir,
      COLLECTOR_BODY_LIMIT_BYTES: String(1024 * 1024),
      LOG_LEVEL: 'silent',
    },
    dir,
  );
  const collector = await openCollectorDatabase(parseDatabaseUrl(url, 'test'), { postgresPoolMax: 4 });
  const cosigner = options.cosigner ?? createCosigner(generateDeviceKey('collector.test/witness'));
  const app = await buildCollectorApp({
    config,
    collector,
    cosigner,
    now: options.now ?? (() => 1_765_000_000_000),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.pushProtocol === undefined ? {} : { pushProtocol: options.pushProtocol }),
  });
  return {
    app,
    collector,
    cosigner,
    config,
    async enroll(unit) {
      const enrolled = await enrollDevice(collector, {
        origin: unit.origin,
        verifierKey: unit.key.verifierKey,
        now: 1,
      });
      return enrolled.pushKey;
    },
    async close() {
      await app.close();
      await collector.close();
    },
  };
}

/** `/v1/devices/<percent-encoded origin><suffix>`. */
export function devicePath(origin: string, suffix = ''): string {
  return `/v1/devices/${encodeURIComponent(origin)}${suffix}`;
}

/** POSTs a push (optionally gzip-compressed) with a push key. */
export function sendPush(
  app: FastifyInstance,
  origin: string,
  key: string,
  body: PushRequest,
  options: { readonly gzip?: boolean } = {},
): Promise<LightMyRequestResponse> {
  const json = JSON.stringify(body);
  return app.inject({
    method: 'POST',
    url: devicePath(origin, '/push'),
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(options.gzip === true ? { 'content-encoding': 'gzip' } : {}),
    },
    payload: options.gzip === true ? gzipSync(json) : json,
  });
}
