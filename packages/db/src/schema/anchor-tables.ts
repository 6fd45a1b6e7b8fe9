/**
 * Outbox job states (one live job per checkpoint and chain):
 *
 *   pending ─▶ signed ─▶ broadcast ─▶ included ─▶ confirmed ─▶ final ─▶ lost
 *      ▲          │          │            │                            │
 *      │          └──────────┴────────────┴──▶ failed ─(backoff)─▶ pending … ─▶ dead
 *      └──────── reorged / dropped ◀──────────┘                        │
 *                                                                      ▼
 *                       a new job for the same checkpoint (unless a live job already covers it)
 *
 * `dead` ─(`fieldproof anchors retry ID`)─▶ `pending`, attempts reset (`requeueDeadAnchorJob`).
 *
 * `lost`: the anchor was final, then the chain no longer had it (a chain reset, a reorg deeper than
 * finality). Terminal, kept as history; (chain, tree_size) is unique among jobs that are not lost.
 */
export const ANCHOR_JOB_STATES = [
  'pending',
  'signed',
  'broadcast',
  'included',
  'confirmed',
  'final',
  'failed',
  'dead',
  'lost',
] as const;
export type AnchorJobState = (typeof ANCHOR_JOB_STATES)[number];

/** Transaction states; `lost`: it was final and the chain no longer has it (see AnchorJobState). */
export const ANCHOR_TX_STATES = [
  'signed',
  'broadcast',
  'included',
  'confirmed',
  'final',
  'replaced',
  'dropped',
  'reorged',
  'failed',
  'lost',
] as const;
export type AnchorTxState = (typeof ANCHOR_TX_STATES)[number];

export interface AnchorJobTable {
  id: string;
  chain: string;
  chain_id: number;
  tree_size: number;
  state: AnchorJobState;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  lease_token: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** A signed transaction, persisted before broadcast. Wei amounts are decimal strings (bigint). */
export interface AnchorTxTable {
  id: string;
  job_id: string;
  chain: string;
  chain_id: number;
  from_address: string;
  nonce: number;
  tx_hash: string;
  raw_tx: string;
  max_fee_per_gas: string;
  max_priority_fee_per_gas: string;
  state: AnchorTxState;
  block_number: number | null;
  block_hash: string | null;
  block_timestamp: number | null;
  gas_used: string | null;
  effective_gas_price: string | null;
  created_at: number;
  updated_at: number;
}

/** Local nonce bookkeeping per chain and sender. */
export interface ChainAccountTable {
  chain: string;
  address: string;
  chain_id: number;
  next_nonce: number;
  updated_at: number;
}

/**
 * The anchor proof of a final transaction (docs/FORMATS.md §8), without `rawTx` (that is
 * `anchor_txs.raw_tx`). It describes the block recorded on the transaction; served only while the
 * transaction is final in that block. `tx_proof`: JSON array of 0x-hex trie nodes, root first.
 */
export interface AnchorProofTable {
  tx_id: string;
  tx_hash: string;
  chain: string;
  chain_id: number;
  block_number: number;
  block_hash: string;
  /** Header timestamp in ms (seconds × 1000). */
  block_timestamp: number;
  raw_header: string;
  tx_index: number;
  tx_proof: string;
  created_at: number;
}

/** The newest finalized block the keeper saw per chain. */
export interface ChainFinalizedBlockTable {
  chain: string;
  chain_id: number;
  block_number: number;
  block_hash: string;
  /** Header timestamp in ms. */
  block_timestamp: number;
  seen_at: number;
}
