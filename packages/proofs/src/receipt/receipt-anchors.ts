import { listCheckpointAnchors } from '@fieldproof/db';
import type { CheckpointAnchorRow, Schema } from '@fieldproof/db';
import type { ReceiptAnchor } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';

const EVM_HASH = /^0x[0-9a-f]{64}$/;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * The anchors of the checkpoint of `treeSize` leaves, as a receipt lists them: one per chain, its live
 * transaction with block number, hash and time (all three or none), the keeper's state of that
 * transaction (`stub` for chain id 0, which is on no chain) and its sender, which the verifier checks
 * against the chain.
 */
export async function receiptAnchorsOf(db: Kysely<Schema>, treeSize: number): Promise<ReceiptAnchor[]> {
  const rows = await listCheckpointAnchors(db, treeSize);
  return rows.flatMap((row) => {
    const anchor = receiptAnchorOf(row);
    return anchor === undefined ? [] : [anchor];
  });
}

function receiptAnchorOf(row: CheckpointAnchorRow): ReceiptAnchor | undefined {
  const txHash = row.txHash.toLowerCase();
  // A stub anchor's "transaction" may be any token; a receipt can only carry a transaction-shaped hash.
  if (!EVM_HASH.test(txHash)) return undefined;
  const blockHash = row.blockHash?.toLowerCase() ?? null;
  const inBlock =
    row.blockNumber !== null && row.blockTimestamp !== null && blockHash !== null && EVM_HASH.test(blockHash);
  const stub = row.chainId === 0;
  return {
    chain: row.chain,
    chainId: row.chainId,
    txHash,
    blockNumber: inBlock ? row.blockNumber : null,
    blockHash: inBlock ? blockHash : null,
    blockTimestamp: inBlock ? row.blockTimestamp : null,
    state: stub ? 'stub' : row.txState,
    ...(!stub && EVM_ADDRESS.test(row.fromAddress) ? { from: row.fromAddress } : {}),
  };
}
