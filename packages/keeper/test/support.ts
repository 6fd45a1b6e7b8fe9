import { createHash } from 'node:crypto';
import { loadConfig } from '@fieldproof/config';
import type { FieldproofConfig, Secrets } from '@fieldproof/config';
import { enqueueEvidence, newId } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { generateDeviceKey } from '@fieldproof/note';
import { leafHashOf } from '@fieldproof/receipt';
import type { ReceiptEvidence } from '@fieldproof/receipt';
import pino from 'pino';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { DeviceIdentity, KeeperDeps } from '@fieldproof/keeper';
import { tempDir } from '../../../test/support/databases.js';
import { evidenceRow } from '../../../test/support/evidence-rows.js';

/** A config as loadConfig makes it from `env` (plus a throwaway data folder), for tests. */
export function testConfig(env: Record<string, string> = {}): { config: FieldproofConfig; secrets: Secrets } {
  const dir = tempDir('fieldproof-keeper-');
  return loadConfig({ FIELDPROOF_DATA_DIR: dir, KEEPER_HTTP_PORT: '0', LOG_LEVEL: 'silent', ...env }, dir);
}

export const silentLogger: Logger = pino({ level: 'silent' });

export function testDeps(database: Database, env: Record<string, string> = {}): KeeperDeps {
  const { config, secrets } = testConfig(env);
  return { database, config, secrets, logger: silentLogger, registry: new Registry(), now: Date.now };
}

/** An in-memory device identity (no key file). */
export function testDevice(origin = 'test.example/log/unit-1'): DeviceIdentity {
  const key = generateDeviceKey(origin);
  return { key, origin, verifierKey: key.verifierKey, source: { kind: 'secret' } };
}

/** A record as the tests write it: the evidence fields a receipt rebuilds the leaf from (v1). */
export type TestEvidence = ReceiptEvidence;

let counter = 0;

/** Commits `n` evidence records and their queue rows in one transaction, as the api does. */
export async function addEvidence(database: Database, n: number): Promise<TestEvidence[]> {
  const records: TestEvidence[] = [];
  for (let i = 0; i < n; i++) {
    const c = counter++;
    records.push({
      id: newId(),
      digest: createHash('sha256').update(`evidence ${c} ${Math.random()}`).digest('hex'),
      kind: c % 2 === 0 ? 'detection' : 'jamming-operation',
      occurredAt: 1_700_000_000_000 + c,
      receivedAt: 1_700_000_000_500 + c,
      payloadMime: c % 3 === 0 ? 'application/json' : null,
      metadata: c % 4 === 0 ? { unit: `u-${c}`, n: c } : null,
    });
  }
  await database.db.transaction().execute(async (trx) => {
    for (let i = 0; i < records.length; i += 500) {
      const chunk = records.slice(i, i + 500);
      await trx
        .insertInto('evidence')
        .values(
          chunk.map((r) =>
            evidenceRow({
              id: r.id,
              digest: r.digest,
              kind: r.kind,
              occurred_at: r.occurredAt,
              received_at: r.receivedAt,
              payload_mime: r.payloadMime,
              // canonical JSON of these small objects: keys already sorted
              metadata: r.metadata === null ? null : JSON.stringify(r.metadata),
            }),
          ),
        )
        .execute();
      await enqueueEvidence(
        trx,
        chunk.map((r) => ({ id: r.id, received_at: r.receivedAt })),
      );
    }
  });
  return records;
}

export function leafHashOfEvidence(r: TestEvidence): Uint8Array {
  return leafHashOf(r);
}

/** Runs `task.runOnce()` until it reports no work; returns how many rounds did work. */
export async function drain(task: { runOnce(): Promise<boolean> }): Promise<number> {
  let rounds = 0;
  while (await task.runOnce()) rounds++;
  return rounds;
}
