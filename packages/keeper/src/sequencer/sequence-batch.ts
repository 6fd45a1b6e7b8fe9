import {
  countLeaves,
  deleteQueuedEvidence,
  getLatestCheckpoint,
  getNodes,
  insertCheckpoint,
  insertLeaves,
  insertNodes,
  readSequenceQueue,
  tryLockSequencer,
} from '@fieldproof/db';
import type { EngineCapabilities, QueuedEvidence, Schema } from '@fieldproof/db';
import { appendToFrontier, fromHex, frontierNodes, rootFromFrontier, toHex } from '@fieldproof/merkle';
import type { Hash } from '@fieldproof/merkle';
import { signCheckpoint } from '@fieldproof/note';
import { LogInconsistencyError } from '@fieldproof/proofs';
import { evidenceRecordOf, leafHashOf } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';
import type { DeviceIdentity } from '../device/device-identity.js';

/** What one sequenced batch did. */
export interface SequencedBatch {
  /** Leaves appended: indices `treeSize − leafCount … treeSize − 1`. */
  readonly leafCount: number;
  /** Tree size after the batch; a checkpoint of exactly this size was written. */
  readonly treeSize: number;
  /** Root of the new tree, hex. */
  readonly rootHash: string;
}

/** An evidence row that cannot be encoded as a leaf. It blocks the log (indices are gap-free). */
export class LeafEncodingFailure extends Error {
  override readonly name = 'LeafEncodingFailure';
  constructor(
    readonly evidenceId: string,
    options: ErrorOptions,
  ) {
    super(`evidence ${evidenceId} cannot be encoded as a leaf: ${(options.cause as Error).message}`, options);
  }
}

/** What {@link sequenceBatch} works with besides the transaction. */
export interface SequenceContext {
  readonly capabilities: EngineCapabilities;
  readonly device: DeviceIdentity;
}

/**
 * Sequences one batch inside the caller's write transaction `trx`. Returns undefined when there is
 * nothing to do or another keeper holds the sequencer lock.
 *
 * ```text
 *  queue (see readSequenceQueue) ──leafHashOf──▶ leaf hashes ─┐
 *  log_leaves/log_nodes ──frontierNodes(n)──▶ frontier ───┴─appendToFrontier─▶ new leaves, completed nodes,
 *                                                                             frontier ─▶ root ─▶ signed checkpoint
 * ```
 *
 * Reads O(batch + log n) rows: the queue slice, popcount(n) frontier nodes and two primary-key maxima.
 * Signing happens inside the transaction: it is CPU only, no network.
 */
export async function sequenceBatch(
  trx: Kysely<Schema>,
  context: SequenceContext,
  options: { readonly limit: number; readonly now: number },
): Promise<SequencedBatch | undefined> {
  const { capabilities, device } = context;
  if (!(await tryLockSequencer(trx, capabilities))) return undefined;
  const queued = await readSequenceQueue(trx, options.limit);
  if (queued.length === 0) return undefined;

  const latest = await getLatestCheckpoint(trx);
  const treeSize = latest?.tree_size ?? 0;
  const leafCount = await countLeaves(trx);
  if (leafCount !== treeSize) {
    throw new LogInconsistencyError(
      `log_leaves holds ${leafCount} leaves but the latest checkpoint has tree size ${treeSize}`,
    );
  }
  const frontier = await readFrontier(trx, treeSize);
  if (latest !== undefined && toHex(rootFromFrontier(frontier)) !== latest.root_hash) {
    throw new LogInconsistencyError(
      `stored nodes of tree size ${treeSize} do not reproduce the signed root ${latest.root_hash}`,
    );
  }

  const leafHashes = queued.map(leafHashOfQueued);
  const appended = appendToFrontier(frontier, treeSize, leafHashes);
  const root = rootFromFrontier(appended.frontier);
  const rootHash = toHex(root);

  await insertLeaves(
    trx,
    queued.map((q, i) => ({
      leafIndex: treeSize + i,
      evidenceId: q.id,
      leafHash: toHex(leafHashes[i]!),
      sequencedAt: options.now,
    })),
  );
  await insertNodes(
    trx,
    appended.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })),
  );
  // Rows read by rowid (SQLite) have no queue row: the new leaf itself moves the watermark past them.
  const fromQueue = queued.filter((q) => q.fromQueue).map((q) => q.id);
  if (fromQueue.length > 0) await deleteQueuedEvidence(trx, fromQueue);
  await insertCheckpoint(trx, {
    treeSize: appended.treeSize,
    rootHash,
    origin: device.origin,
    signedNote: signCheckpoint({ origin: device.origin, treeSize: appended.treeSize, root }, device.key),
    createdAt: options.now,
  });
  return { leafCount: queued.length, treeSize: appended.treeSize, rootHash };
}

/** The frontier of `treeSize` from stored nodes: exactly popcount(treeSize) primary-key reads, one query. */
async function readFrontier(trx: Kysely<Schema>, treeSize: number): Promise<Hash[]> {
  const ids = frontierNodes(treeSize);
  const rows = await getNodes(trx, ids);
  const byId = new Map(rows.map((r) => [`${r.level}/${r.index}`, r.hash]));
  return ids.map(({ level, index }) => {
    const hash = byId.get(`${level}/${index}`);
    if (hash === undefined) {
      throw new LogInconsistencyError(
        `frontier node (level ${level}, index ${index}) of tree size ${treeSize} is missing`,
      );
    }
    return fromHex(hash);
  });
}

function leafHashOfQueued(q: QueuedEvidence): Hash {
  try {
    return leafHashOf(evidenceRecordOf(q));
  } catch (err) {
    throw new LeafEncodingFailure(q.id, { cause: err });
  }
}
