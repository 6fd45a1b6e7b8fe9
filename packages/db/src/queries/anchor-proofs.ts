import type { Kysely } from 'kysely';
import type { Schema } from '../schema/schema.js';

/**
 * Anchor proofs (`anchor_proofs`, docs/FORMATS.md §8). The keeper stores one when an anchor transaction
 * is final; a row always describes the block recorded on its transaction. The proof is served only while
 * the job and the transaction are `final` and the transaction's recorded block is the proof's: a proof
 * of a `lost` anchor stays as history (what the chain showed then) but is never served.
 */

/** The FORMATS §8 object, as stored (plain JSON; `@fieldproof/receipt`'s `AnchorProof`). */
export interface StoredAnchorProof {
  readonly chainId: number;
  readonly blockNumber: number;
  readonly blockHash: string;
  readonly rawHeader: string;
  readonly txIndex: number;
  readonly rawTx: string;
  readonly txProof: readonly string[];
}

/** A final anchor transaction that has no proof of its recorded block yet: work for the keeper. */
export interface FinalAnchorWithoutProof {
  readonly jobId: string;
  readonly treeSize: number;
  readonly txId: string;
  readonly txHash: string;
  readonly rawTx: string;
  readonly blockNumber: number;
  readonly blockHash: string;
}

/**
 * Stores (or replaces) the proof of transaction `txId`, if it is still `final` in block
 * `proof.blockHash`; returns whether it did. Run inside a write transaction (the check and the write
 * belong together; a re-check may have moved or lost the transaction meanwhile).
 */
export async function saveAnchorProof(
  trx: Kysely<Schema>,
  row: {
    readonly txId: string;
    readonly chain: string;
    readonly blockTimestamp: number;
    readonly proof: StoredAnchorProof;
    readonly now: number;
  },
): Promise<boolean> {
  const { proof } = row;
  const tx = await trx
    .selectFrom('anchor_txs')
    .select('tx_hash')
    .where('id', '=', row.txId)
    .where('state', '=', 'final')
    .where('block_hash', '=', proof.blockHash)
    .executeTakeFirst();
  if (tx === undefined) return false;
  const values = {
    tx_hash: tx.tx_hash,
    chain: row.chain,
    chain_id: proof.chainId,
    block_number: proof.blockNumber,
    block_hash: proof.blockHash,
    block_timestamp: row.blockTimestamp,
    raw_header: proof.rawHeader,
    tx_index: proof.txIndex,
    tx_proof: JSON.stringify(proof.txProof),
    created_at: row.now,
  };
  await trx
    .insertInto('anchor_proofs')
    .values({ tx_id: row.txId, ...values })
    .onConflict((oc) => oc.column('tx_id').doUpdateSet(values))
    .execute();
  return true;
}

/** Removes the proof of a transaction whose recorded block changed (it described the old block). */
export async function deleteAnchorProof(trx: Kysely<Schema>, txId: string): Promise<void> {
  await trx.deleteFrom('anchor_proofs').where('tx_id', '=', txId).execute();
}

/** Final anchors of `chain` without a proof of their recorded block, newest checkpoint first. */
export async function listFinalAnchorsWithoutProof(
  db: Kysely<Schema>,
  chain: string,
  limit: number,
): Promise<FinalAnchorWithoutProof[]> {
  const rows = await db
    .selectFrom('anchor_jobs as j')
    .innerJoin('anchor_txs as t', 't.job_id', 'j.id')
    .leftJoin('anchor_proofs as p', (join) =>
      join.onRef('p.tx_id', '=', 't.id').onRef('p.block_hash', '=', 't.block_hash'),
    )
    .select([
      'j.id',
      'j.tree_size',
      't.id as tx_id',
      't.tx_hash',
      't.raw_tx',
      't.block_number',
      't.block_hash',
    ])
    .where('j.chain', '=', chain)
    .where('j.state', '=', 'final')
    .where('t.state', '=', 'final')
    .where('p.tx_id', 'is', null)
    .orderBy('j.tree_size', 'desc')
    .limit(limit)
    .execute();
  return rows.flatMap((r) =>
    r.block_number === null || r.block_hash === null
      ? []
      : [
          {
            jobId: r.id,
            treeSize: r.tree_size,
            txId: r.tx_id,
            txHash: r.tx_hash,
            rawTx: r.raw_tx,
            blockNumber: r.block_number,
            blockHash: r.block_hash,
          },
        ],
  );
}

/** What `GET /v1/anchors/:id/proof` finds for job `jobId`. */
export type AnchorProofLookup =
  | { readonly found: 'proof'; readonly proof: StoredAnchorProof }
  /** The job exists; it is not final (yet, or any more: `lost`), or its proof is not built yet. */
  | { readonly found: 'no-proof'; readonly state: string }
  | { readonly found: 'no-job' };

/** The served proof of anchor job `jobId`: only of its final transaction, in its recorded block. */
export async function findAnchorProofOfJob(db: Kysely<Schema>, jobId: string): Promise<AnchorProofLookup> {
  const job = await db.selectFrom('anchor_jobs').select('state').where('id', '=', jobId).executeTakeFirst();
  if (job === undefined) return { found: 'no-job' };
  const row = await servedProofs(db).where('j.id', '=', jobId).executeTakeFirst();
  if (row === undefined) return { found: 'no-proof', state: job.state };
  return { found: 'proof', proof: storedProofOf(row) };
}

/** The stored header of an anchor transaction's block (`anchor_proofs`), by transaction hash. */
export interface AnchorProofHeader {
  readonly txHash: string;
  readonly blockNumber: number;
  readonly blockHash: string;
  /** The RLP header, 0x-hex, as the keeper checked it against the block hash. */
  readonly rawHeader: string;
}

/** The stored headers of the given transactions' blocks (those that have a proof). One query. */
export async function findAnchorProofHeaders(
  db: Kysely<Schema>,
  txHashes: readonly string[],
): Promise<AnchorProofHeader[]> {
  if (txHashes.length === 0) return [];
  const rows = await db
    .selectFrom('anchor_proofs')
    .select(['tx_hash', 'block_number', 'block_hash', 'raw_header'])
    .where('tx_hash', 'in', txHashes)
    .execute();
  return rows.map((r) => ({
    txHash: r.tx_hash,
    blockNumber: r.block_number,
    blockHash: r.block_hash,
    rawHeader: r.raw_header,
  }));
}

/**
 * The served proofs of the anchors of the checkpoint of `treeSize` leaves (final job and transaction, in
 * the transaction's recorded block), for receipts: what `buildReceipt` takes as `anchorProofs`.
 */
export async function listAnchorProofsOfCheckpoint(
  db: Kysely<Schema>,
  treeSize: number,
): Promise<StoredAnchorProof[]> {
  const rows = await servedProofs(db).where('j.tree_size', '=', treeSize).execute();
  return rows.map((row) => storedProofOf(row));
}

/** An anchor as the unit pushes it to a collector: a final (or since lost) transaction with its proof. */
export interface PushableAnchor {
  /** anchor_txs.id: the page cursor. */
  readonly txId: string;
  readonly chain: string;
  readonly treeSize: number;
  readonly txHash: string;
  readonly state: 'final' | 'lost';
  readonly proof: StoredAnchorProof;
}

/**
 * One page of the anchors a unit pushes to its collectors (docs/COLLECTOR.md, "Anchors"): transactions
 * that are `final` with the proof of their recorded block, and those that were and became `lost` (their
 * proof kept as history), of checkpoints of at most `maxTreeSize` leaves — in transaction id order after
 * `afterTxId`. A transaction that moved to another block has its new proof (the old one was deleted).
 */
export async function listPushableAnchors(
  db: Kysely<Schema>,
  page: { readonly afterTxId: string; readonly maxTreeSize: number; readonly limit: number },
): Promise<PushableAnchor[]> {
  const rows = await db
    .selectFrom('anchor_txs as t')
    .innerJoin('anchor_jobs as j', 'j.id', 't.job_id')
    .innerJoin('anchor_proofs as p', (join) =>
      join.onRef('p.tx_id', '=', 't.id').onRef('p.block_hash', '=', 't.block_hash'),
    )
    .select(['t.id', 'j.chain', 'j.tree_size', 't.tx_hash', 't.state', ...PROOF_COLUMNS])
    .where('t.state', 'in', ['final', 'lost'])
    .where('j.tree_size', '<=', page.maxTreeSize)
    .where('t.id', '>', page.afterTxId)
    .orderBy('t.id')
    .limit(page.limit)
    .execute();
  return rows.map((r) => ({
    txId: r.id,
    chain: r.chain,
    treeSize: r.tree_size,
    txHash: r.tx_hash.toLowerCase(),
    state: r.state === 'lost' ? 'lost' : 'final',
    proof: storedProofOf(r),
  }));
}

/** The columns of a served proof: anchor_proofs (`p`) and its transaction's raw bytes (`t`). */
const PROOF_COLUMNS = [
  'p.chain_id',
  'p.block_number',
  'p.block_hash',
  'p.raw_header',
  'p.tx_index',
  't.raw_tx',
  'p.tx_proof',
] as const;

/**
 * The proofs that are served: of a final job's final transaction, in the transaction's recorded block
 * (a proof of an older block of a moved transaction, or of a lost one, is history). Narrowed by the caller.
 */
function servedProofs(db: Kysely<Schema>) {
  return db
    .selectFrom('anchor_jobs as j')
    .innerJoin('anchor_txs as t', 't.job_id', 'j.id')
    .innerJoin('anchor_proofs as p', (join) =>
      join.onRef('p.tx_id', '=', 't.id').onRef('p.block_hash', '=', 't.block_hash'),
    )
    .select(PROOF_COLUMNS)
    .where('j.state', '=', 'final')
    .where('t.state', '=', 'final');
}

/** The columns of a served proof (anchor_proofs joined to its transaction's raw bytes). */
interface StoredProofRow {
  readonly chain_id: number;
  readonly block_number: number;
  readonly block_hash: string;
  readonly raw_header: string;
  readonly tx_index: number;
  readonly raw_tx: string;
  readonly tx_proof: string;
}

function storedProofOf(row: StoredProofRow): StoredAnchorProof {
  return {
    chainId: row.chain_id,
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    rawHeader: row.raw_header,
    txIndex: row.tx_index,
    rawTx: row.raw_tx.toLowerCase(),
    txProof: JSON.parse(row.tx_proof) as string[],
  };
}
