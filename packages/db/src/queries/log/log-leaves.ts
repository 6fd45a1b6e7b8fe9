import type { Kysely, Selectable } from 'kysely';
import type { LogLeafTable } from '../../schema/log-tables.js';
import type { Schema } from '../../schema/schema.js';
import { runBulk } from '../bulk-statement.js';
import type { BulkStatement } from '../bulk-statement.js';

export type LogLeafRow = Selectable<LogLeafTable>;

export interface NewLeaf {
  readonly leafIndex: number;
  readonly evidenceId: string;
  readonly leafHash: string;
  readonly sequencedAt: number;
}

const INSERT_LEAVES: BulkStatement<NewLeaf> = {
  name: 'log_leaves.insert',
  maxRows: 512,
  build: (db, n) =>
    db.insertInto('log_leaves').values(
      new Array(n).fill({
        leaf_index: null,
        evidence_id: null,
        leaf_hash: null,
        sequenced_at: null,
      }) as never[],
    ),
  values: (l) => [l.leafIndex, l.evidenceId, l.leafHash, l.sequencedAt],
};

/** Inserts leaves (level 0), in the caller's transaction. */
export async function insertLeaves(trx: Kysely<Schema>, leaves: readonly NewLeaf[]): Promise<void> {
  await runBulk(trx, INSERT_LEAVES, leaves);
}

/** The leaf of an evidence record, if it has been sequenced. */
export async function getLeafByEvidenceId(
  db: Kysely<Schema>,
  evidenceId: string,
): Promise<LogLeafRow | undefined> {
  return db.selectFrom('log_leaves').selectAll().where('evidence_id', '=', evidenceId).executeTakeFirst();
}

/** The leaf at `leafIndex`, if any. */
export async function getLeafByIndex(db: Kysely<Schema>, leafIndex: number): Promise<LogLeafRow | undefined> {
  return db.selectFrom('log_leaves').selectAll().where('leaf_index', '=', leafIndex).executeTakeFirst();
}

/** Number of leaves stored: max(leaf_index) + 1, read from the primary key's last entry. */
export async function countLeaves(db: Kysely<Schema>): Promise<number> {
  const row = await db
    .selectFrom('log_leaves')
    .select('leaf_index')
    .orderBy('leaf_index', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? 0 : row.leaf_index + 1;
}
