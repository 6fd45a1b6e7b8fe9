import type { AnchorProof } from '@fieldproof/receipt';
import type { Kysely, Selectable } from 'kysely';
import type { CollectorSchema, DeviceAnchorTable } from './collector-schema.js';

/** One anchor of a device as the collector keeps it, its proof already verified. */
export interface DeviceAnchor {
  readonly txHash: string;
  readonly chain: string;
  readonly chainId: number;
  readonly treeSize: number;
  readonly blockNumber: number;
  readonly blockHash: string;
  /** Unix milliseconds. */
  readonly blockTimestamp: number;
  readonly to: string | null;
  readonly state: 'final' | 'lost';
  readonly proof: AnchorProof;
}

/**
 * Stores a pushed anchor idempotently; returns whether anything changed. The same transaction in the same
 * block and state is a re-send (nothing written); a transaction now in another block replaces its row
 * (the proof describes the block on the row); `lost` is final — a lost anchor never becomes final again
 * (the unit re-anchors a lost checkpoint in a new transaction). Run inside the push's transaction.
 */
export async function upsertDeviceAnchor(
  trx: Kysely<CollectorSchema>,
  deviceId: string,
  anchor: DeviceAnchor,
  now: number,
): Promise<boolean> {
  const held = await trx
    .selectFrom('device_anchors')
    .select(['block_hash', 'state'])
    .where('device_id', '=', deviceId)
    .where('tx_hash', '=', anchor.txHash)
    .executeTakeFirst();
  if (held !== undefined) {
    if (held.state === 'lost') return false;
    if (held.block_hash === anchor.blockHash && held.state === anchor.state) return false;
  }
  const values = {
    chain: anchor.chain,
    chain_id: anchor.chainId,
    tree_size: anchor.treeSize,
    block_number: anchor.blockNumber,
    block_hash: anchor.blockHash,
    block_timestamp: anchor.blockTimestamp,
    to_address: anchor.to,
    state: anchor.state,
    proof: JSON.stringify(anchor.proof),
    updated_at: now,
  };
  await trx
    .insertInto('device_anchors')
    .values({ device_id: deviceId, tx_hash: anchor.txHash, received_at: now, ...values })
    .onConflict((oc) => oc.columns(['device_id', 'tx_hash']).doUpdateSet(values))
    .execute();
  return true;
}

/**
 * The final anchors of the newest anchored checkpoint of at most `maxTreeSize` leaves that includes leaf
 * `leafIndex` (its size is above the index) — the unit's rule for its own receipts (`receiptTreeSize`) —
 * ordered by chain and transaction; empty when none is.
 */
export async function finalAnchorsIncluding(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  leafIndex: number,
  maxTreeSize: number,
): Promise<DeviceAnchor[]> {
  const newest = await db
    .selectFrom('device_anchors')
    .select((eb) => eb.fn.max('tree_size').as('tree_size'))
    .where('device_id', '=', deviceId)
    .where('state', '=', 'final')
    .where('tree_size', '>', leafIndex)
    .where('tree_size', '<=', maxTreeSize)
    .executeTakeFirst();
  if (newest?.tree_size === null || newest?.tree_size === undefined) return [];
  const rows = await db
    .selectFrom('device_anchors')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('state', '=', 'final')
    .where('tree_size', '=', Number(newest.tree_size))
    .orderBy('chain')
    .orderBy('tx_hash')
    .execute();
  return rows.map(anchorOfRow);
}

/** One anchor of a device by transaction hash, in any state. */
export async function findDeviceAnchor(
  db: Kysely<CollectorSchema>,
  deviceId: string,
  txHash: string,
): Promise<DeviceAnchor | undefined> {
  const row = await db
    .selectFrom('device_anchors')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('tx_hash', '=', txHash)
    .executeTakeFirst();
  return row === undefined ? undefined : anchorOfRow(row);
}

function anchorOfRow(row: Selectable<DeviceAnchorTable>): DeviceAnchor {
  return {
    txHash: row.tx_hash,
    chain: row.chain,
    chainId: Number(row.chain_id),
    treeSize: Number(row.tree_size),
    blockNumber: Number(row.block_number),
    blockHash: row.block_hash,
    blockTimestamp: Number(row.block_timestamp),
    to: row.to_address,
    state: row.state,
    proof: JSON.parse(row.proof) as AnchorProof,
  };
}
