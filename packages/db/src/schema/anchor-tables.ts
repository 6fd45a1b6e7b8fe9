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

// Every named subset of the states above lives here, beside the diagram, and nowhere else: queries, the
// keeper and the api's schemas import them. Each is typed by the lists above (a misspelt state does not
// compile), and the rank is a Record, so a state added to ANCHOR_JOB_STATES must be ranked.

/**
 * Job states from worst to best: the best job covering a leaf decides that chain's state for it. A lost
 * job (final once, gone from the chain) is worth nothing: the job that anchors its checkpoint again decides.
 */
export const ANCHOR_JOB_STATE_RANK: Readonly<Record<AnchorJobState, number>> = {
  lost: 0,
  dead: 1,
  failed: 2,
  pending: 3,
  signed: 4,
  broadcast: 5,
  included: 6,
  confirmed: 7,
  final: 8,
};

/** Jobs that anchor nothing and never will: given up, or lost by the chain after they were final. */
export const ENDED_ANCHOR_JOB_STATES: readonly AnchorJobState[] = ['dead', 'lost'];

/** Jobs a worker no longer acts on: final, or ended. */
export const SETTLED_ANCHOR_JOB_STATES: readonly AnchorJobState[] = ['final', ...ENDED_ANCHOR_JOB_STATES];

/** Job states a worker still acts on (everything but the settled ones), in diagram order. */
export const ACTIVE_ANCHOR_JOB_STATES: readonly AnchorJobState[] = ANCHOR_JOB_STATES.filter(
  (s) => !SETTLED_ANCHOR_JOB_STATES.includes(s),
);

/** Jobs with no transaction in flight: waiting for (another) first signature. */
export const UNSIGNED_ANCHOR_JOB_STATES: readonly AnchorJobState[] = ['pending', 'failed'];

/** Jobs whose transaction is in a block: the leaf is anchored, confirmed or final. */
export const MINED_ANCHOR_JOB_STATES: readonly AnchorJobState[] = ['included', 'confirmed', 'final'];

/** Transaction states that hold a nonce the chain has not consumed yet (at most one per chain). */
export const UNMINED_ANCHOR_TX_STATES: readonly AnchorTxState[] = ['signed', 'broadcast', 'reorged'];

/** The states of a job's one current transaction; every other row of the job is history. */
export const CURRENT_ANCHOR_TX_STATES: readonly AnchorTxState[] = [
  ...UNMINED_ANCHOR_TX_STATES,
  'included',
  'confirmed',
  'final',
];

/** Transactions that can still carry an anchor (replaced, dropped, reorged, failed or lost ones cannot). */
export const LIVE_ANCHOR_TX_STATES: readonly AnchorTxState[] = [
  'signed',
  'broadcast',
  'included',
  'confirmed',
  'final',
];

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
