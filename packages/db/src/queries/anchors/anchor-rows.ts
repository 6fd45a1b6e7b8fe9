import type { Selectable, Updateable } from 'kysely';
import type { AnchorJobTable, AnchorTxTable, ChainAccountTable } from '../../schema/anchor-tables.js';

/**
 * The anchoring outbox (`anchor_jobs`), the transactions signed for it (`anchor_txs`) and local nonce
 * bookkeeping (`chain_accounts`): one file per statement or small family of statements, in this folder.
 * Every write to a claimed job is fenced by its `lease_token`: a worker whose lease was re-claimed by
 * another one changes nothing.
 *
 * Rows come back as the drivers return them: every INTEGER/BIGINT column is a number on both engines
 * (better-sqlite3 without safe integers; the pg pool parses BIGINT, see create-postgres-pool.ts).
 */

export type AnchorJobRow = Selectable<AnchorJobTable>;
export type AnchorTxRow = Selectable<AnchorTxTable>;
export type ChainAccountRow = Selectable<ChainAccountTable>;
export type AnchorJobPatch = Omit<
  Updateable<AnchorJobTable>,
  'id' | 'chain' | 'chain_id' | 'tree_size' | 'lease_token' | 'created_at'
>;
export type AnchorTxPatch = Omit<
  Updateable<AnchorTxTable>,
  'id' | 'job_id' | 'chain' | 'chain_id' | 'from_address' | 'nonce' | 'tx_hash' | 'raw_tx' | 'created_at'
>;
