import { createHash } from 'node:crypto';
import {
  LOG_META,
  appendEvidence,
  deleteQueuedEvidence,
  initLogMeta,
  insertAnchorJob,
  insertAnchorTx,
  insertCheckpoint,
  insertLeaves,
  insertNodes,
  newId,
} from '@fieldproof/db';
import type { AnchorJobState, AnchorTxState, NewEvidence, Schema } from '@fieldproof/db';
import { MemoryTree, appendToFrontier, rootFromFrontier, toHex } from '@fieldproof/merkle';
import type { Hash } from '@fieldproof/merkle';
import { generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import type { DeviceKey } from '@fieldproof/note';
import { canonicalJson, leafHashOf } from '@fieldproof/receipt';
import type { EvidenceRecord, JsonObject } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';

/**
 * A real device log in a real database, written through the db package's own queries exactly as the
 * sequencer writes it (leaves, completed perfect nodes, one signed checkpoint per batch), with a
 * `MemoryTree` beside it as the reference. Storage tests compare what the store serves with the tree.
 */
export const FIXTURE_ORIGIN = 'fieldproof.test/unit-9';

export interface FixtureRecord extends EvidenceRecord {
  readonly content: Uint8Array;
  readonly leafIndex: number;
}

export interface LogFixture {
  readonly key: DeviceKey;
  readonly tree: MemoryTree;
  readonly records: FixtureRecord[];
  /** Checkpoint tree sizes, in order. */
  readonly checkpoints: number[];
  /** Appends `count` records as one batch (one checkpoint); returns them. */
  appendBatch(count: number, now?: number): Promise<FixtureRecord[]>;
  /** Records evidence without sequencing it (it stays in the queue). */
  recordUnsequenced(count: number): Promise<FixtureRecord[]>;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Record `n` of a fixture: kinds alternate; some carry metadata or a JSON payload. */
function fixtureRecord(n: number, now: number): Omit<FixtureRecord, 'leafIndex'> & { row: NewEvidence } {
  const id = newId();
  const kind = ['detection', 'countermeasure', 'jamming-operation'][n % 3]!;
  const metadata: JsonObject | null =
    n % 4 === 1 ? { seq: n, band: 'L1', site: { lat: 48.1, lon: 11.6 } } : null;
  const json = n % 5 === 2;
  const payload = json ? { reading: n, unit: 'dBm', note: `record ${n}` } : undefined;
  const content = new TextEncoder().encode(json ? canonicalJson(payload!) : `evidence content #${n} ${id}\n`);
  const digest = sha256(content);
  const occurredAt = now - 5_000 + n;
  const receivedAt = now + n;
  const payloadMime = json ? 'application/json' : n % 3 === 0 ? 'image/jpeg' : null;
  return {
    id,
    digest,
    kind,
    occurredAt,
    receivedAt,
    payloadMime,
    metadata,
    content,
    row: {
      id,
      digest,
      kind,
      source: json ? 'json' : 'digest',
      occurred_at: occurredAt,
      received_at: receivedAt,
      payload_mime: payloadMime,
      payload_size: content.length,
      payload_json: json ? canonicalJson(payload!) : null,
      metadata: metadata === null ? null : canonicalJson(metadata),
      content_stored: 0,
    },
  };
}

export async function createLogFixture(
  db: Kysely<Schema>,
  options: { readonly key?: DeviceKey; readonly origin?: string; readonly startAt?: number } = {},
): Promise<LogFixture> {
  const origin = options.origin ?? FIXTURE_ORIGIN;
  const key = options.key ?? generateDeviceKey(origin);
  let clock = options.startAt ?? 1_750_000_000_000;
  await initLogMeta(db, LOG_META.origin, origin, clock);
  await initLogMeta(db, LOG_META.verifierKey, key.verifierKey, clock);
  const tree = new MemoryTree();
  const records: FixtureRecord[] = [];
  const checkpoints: number[] = [];
  let frontier: Hash[] = [];
  let made = 0;

  const record = async (count: number) => {
    const made0 = made;
    const fresh = Array.from({ length: count }, (_, i) => fixtureRecord(made0 + i, (clock += 10)));
    made += count;
    clock += count;
    await db.transaction().execute((trx) =>
      appendEvidence(
        trx,
        fresh.map((r) => r.row),
      ),
    );
    return fresh;
  };

  return {
    key,
    tree,
    records,
    checkpoints,
    async recordUnsequenced(count) {
      return (await record(count)).map(({ row: _row, ...r }) => ({ ...r, leafIndex: -1 }));
    },
    async appendBatch(count, now = (clock += 1000)) {
      const fresh = await record(count);
      const start = tree.treeSize;
      const leafHashes = fresh.map(({ row: _row, content: _c, ...r }) => leafHashOf(r));
      const appended = appendToFrontier(frontier, start, leafHashes);
      frontier = appended.frontier;
      tree.append(leafHashes);
      const root = rootFromFrontier(frontier);
      await db.transaction().execute(async (trx) => {
        await insertLeaves(
          trx,
          fresh.map((r, i) => ({
            leafIndex: start + i,
            evidenceId: r.id,
            leafHash: toHex(leafHashes[i]!),
            sequencedAt: now,
          })),
        );
        await insertNodes(
          trx,
          appended.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })),
        );
        await deleteQueuedEvidence(
          trx,
          fresh.map((r) => r.id),
        );
        await insertCheckpoint(trx, {
          treeSize: appended.treeSize,
          rootHash: toHex(root),
          origin,
          signedNote: signCheckpoint({ origin, treeSize: appended.treeSize, root }, key),
          createdAt: now,
        });
      });
      checkpoints.push(appended.treeSize);
      const added = fresh.map(({ row: _row, ...r }, i) => ({ ...r, leafIndex: start + i }));
      records.push(...added);
      return added;
    },
  };
}

export interface FixtureAnchor {
  readonly chain: string;
  readonly chainId: number;
  readonly treeSize: number;
  readonly jobState: AnchorJobState;
  /** Transactions of the job, oldest first. */
  readonly txs: readonly {
    readonly state: AnchorTxState;
    readonly block?: { readonly number: number; readonly hash: string; readonly timestamp: number };
  }[];
  readonly lastError?: string;
}

export const FIXTURE_SENDER = '0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c';

/** Writes an outbox job and its transactions in the given states (as the anchorer would have). */
export async function addAnchor(db: Kysely<Schema>, anchor: FixtureAnchor, now = 1_750_000_500_000) {
  const jobId = newId();
  await insertAnchorJob(db, {
    id: jobId,
    chain: anchor.chain,
    chainId: anchor.chainId,
    treeSize: anchor.treeSize,
    now,
  });
  await db
    .updateTable('anchor_jobs')
    .set({ state: anchor.jobState, last_error: anchor.lastError ?? null, attempts: anchor.txs.length })
    .where('id', '=', jobId)
    .execute();
  const txHashes: string[] = [];
  for (const [i, tx] of anchor.txs.entries()) {
    const txHash = `0x${sha256(`${jobId}/${i}`)}`;
    txHashes.push(txHash);
    await insertAnchorTx(db, {
      id: newId(),
      job_id: jobId,
      chain: anchor.chain,
      chain_id: anchor.chainId,
      from_address: FIXTURE_SENDER,
      nonce: i,
      tx_hash: txHash,
      raw_tx: '0x02',
      max_fee_per_gas: '1000000000',
      max_priority_fee_per_gas: '1000000',
      state: tx.state,
      created_at: now + i,
      updated_at: now + i,
    });
    if (tx.block !== undefined) {
      await db
        .updateTable('anchor_txs')
        .set({
          block_number: tx.block.number,
          block_hash: tx.block.hash,
          block_timestamp: tx.block.timestamp,
        })
        .where('tx_hash', '=', txHash)
        .execute();
    }
  }
  return { jobId, txHashes };
}
