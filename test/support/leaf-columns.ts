// No imports: receipt's tests take this too, and the receipt package must not load the db.

/**
 * The `fieldproof-leaf/v1` values of the leaf columns (migration 0008): what every row written before it
 * holds, and what a row written without them reads back as.
 */
export const V1_LEAF_COLUMNS = {
  leaf_version: 1,
  not_before_chain_id: null,
  not_before_number: null,
  not_before_hash: null,
  not_before_timestamp: null,
  clock_suspect: null,
} as const;
