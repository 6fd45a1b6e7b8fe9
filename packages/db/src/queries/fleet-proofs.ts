import type { Kysely, Selectable } from 'kysely';
import type { AnchorJobState } from '../schema/anchor-tables.js';
import type { FleetProofCursorTable, FleetProofTable } from '../schema/fleet-proof-tables.js';
import type { Schema } from '../schema/schema.js';

/**
 * Fleet proofs (issue 16, migration 0010): a unit on `KEEPER_PROVIDER=collector` (or anchoring directly
 * too) gets back from each fleet collector, per checkpoint it signed, the v2 receipt of that checkpoint's
 * leaf in the collector's fleet log. The keeper verifies each before storing it (the fleet key pinned,
 * the device-note hash one of this unit's checkpoints); these are the writes it does and the reads
 * finality and receipts make. A checkpoint of N leaves covers leaves 0 … N−1, as a direct anchor does.
 */

/** One stored fleet proof. */
export interface StoredFleetProof {
  readonly collector: string;
  /** Tree size of this unit's checkpoint the fleet leaf names. */
  readonly treeSize: number;
  /** SHA-256 hex of that checkpoint's signed note. */
  readonly noteHash: string;
  /** Tree size of the fleet checkpoint the receipt proves the leaf in. */
  readonly fleetTreeSize: number;
  /** The fleet leaf's `fieldproof-receipt/v2`, JSON text. */
  readonly receipt: string;
  /** Best state of its proven anchors: `final` once any is. */
  readonly state: AnchorJobState;
  readonly updatedAt: number;
}

/** Where fetching from one collector resumes, and how the last fetch went. */
export interface FleetProofCursor {
  readonly collector: string;
  /** The collector's opaque cursor ('' before the first page). */
  readonly cursor: string;
  readonly fetchedAt: number | undefined;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | undefined;
  readonly lastErrorAt: number | undefined;
  readonly stopped: boolean;
}

/**
 * Stores a verified fleet proof, replacing the one of the same (collector, checkpoint): the collector
 * lists a leaf again only when its anchoring changed (a lost anchor and its replacement). Returns whether
 * a row was there before.
 */
export async function saveFleetProof(
  db: Kysely<Schema>,
  proof: Omit<StoredFleetProof, 'updatedAt'> & { readonly now: number },
): Promise<'inserted' | 'replaced'> {
  const values = {
    note_hash: proof.noteHash,
    fleet_tree_size: proof.fleetTreeSize,
    receipt: proof.receipt,
    state: proof.state,
    updated_at: proof.now,
  };
  const before = await db
    .selectFrom('fleet_proofs')
    .select('tree_size')
    .where('collector', '=', proof.collector)
    .where('tree_size', '=', proof.treeSize)
    .executeTakeFirst();
  await db
    .insertInto('fleet_proofs')
    .values({ collector: proof.collector, tree_size: proof.treeSize, ...values })
    .onConflict((oc) => oc.columns(['collector', 'tree_size']).doUpdateSet(values))
    .execute();
  return before === undefined ? 'inserted' : 'replaced';
}

/** The stored fleet proof of checkpoint `treeSize` from `collector`. */
export async function getFleetProof(
  db: Kysely<Schema>,
  collector: string,
  treeSize: number,
): Promise<StoredFleetProof | undefined> {
  const row = await db
    .selectFrom('fleet_proofs')
    .selectAll()
    .where('collector', '=', collector)
    .where('tree_size', '=', treeSize)
    .executeTakeFirst();
  return row === undefined ? undefined : proofOf(row);
}

/**
 * Per collector, the final fleet proof of the smallest checkpoint of at least `minTreeSize` leaves (the
 * one a receipt of a leaf below `minTreeSize` goes through), by collector name. Two queries.
 */
export async function listSmallestFinalFleetProofs(
  db: Kysely<Schema>,
  minTreeSize: number,
): Promise<StoredFleetProof[]> {
  const smallest = await db
    .selectFrom('fleet_proofs')
    .select('collector')
    .select((eb) => eb.fn.min('tree_size').as('tree_size'))
    .where('state', '=', 'final')
    .where('tree_size', '>=', minTreeSize)
    .groupBy('collector')
    .execute();
  if (smallest.length === 0) return [];
  const rows = await db
    .selectFrom('fleet_proofs')
    .selectAll()
    .where((eb) =>
      eb.or(
        smallest.map((s) =>
          eb.and([eb('collector', '=', s.collector), eb('tree_size', '=', Number(s.tree_size))]),
        ),
      ),
    )
    .orderBy('collector')
    .execute();
  return rows.map(proofOf);
}

/** The smallest checkpoint of at least `minTreeSize` leaves with a final fleet proof from any collector. */
export async function smallestFinalFleetTreeSize(
  db: Kysely<Schema>,
  minTreeSize: number,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('fleet_proofs')
    .select((eb) => eb.fn.min('tree_size').as('tree_size'))
    .where('state', '=', 'final')
    .where('tree_size', '>=', minTreeSize)
    .executeTakeFirst();
  return row?.tree_size === null || row?.tree_size === undefined ? undefined : Number(row.tree_size);
}

/** The largest checkpoint with a final fleet proof from any collector (0: none): the fleet's `final` bound. */
export async function largestFinalFleetTreeSize(db: Kysely<Schema>): Promise<number> {
  const row = await db
    .selectFrom('fleet_proofs')
    .select((eb) => eb.fn.max('tree_size').as('tree_size'))
    .where('state', '=', 'final')
    .executeTakeFirst();
  return Number(row?.tree_size ?? 0);
}

/** Per collector, the largest checkpoint with a final fleet proof (what `GET /v1/collectors` shows). */
export async function listFinalFleetTreeSizes(
  db: Kysely<Schema>,
): Promise<{ collector: string; treeSize: number; updatedAt: number }[]> {
  const rows = await db
    .selectFrom('fleet_proofs')
    .select('collector')
    .select((eb) => [eb.fn.max('tree_size').as('tree_size'), eb.fn.max('updated_at').as('updated_at')])
    .where('state', '=', 'final')
    .groupBy('collector')
    .orderBy('collector')
    .execute();
  return rows.map((r) => ({
    collector: r.collector,
    treeSize: Number(r.tree_size),
    updatedAt: Number(r.updated_at),
  }));
}

/** The fetch state of `collector`, or undefined before its first fetch. */
export async function getFleetProofCursor(
  db: Kysely<Schema>,
  collector: string,
): Promise<FleetProofCursor | undefined> {
  const row = await db
    .selectFrom('fleet_proof_cursors')
    .selectAll()
    .where('collector', '=', collector)
    .executeTakeFirst();
  return row === undefined ? undefined : cursorOf(row);
}

/** Every collector's fetch state, by name. */
export async function listFleetProofCursors(db: Kysely<Schema>): Promise<FleetProofCursor[]> {
  const rows = await db.selectFrom('fleet_proof_cursors').selectAll().orderBy('collector').execute();
  return rows.map(cursorOf);
}

/** Records a page taken: the cursor to resume from; clears the failure count and error. */
export async function advanceFleetProofCursor(
  db: Kysely<Schema>,
  collector: string,
  cursor: string,
  now: number,
): Promise<void> {
  const values = {
    cursor,
    fetched_at: now,
    attempts: 0,
    next_attempt_at: 0,
    last_error: null,
    last_error_at: null,
    stopped: 0 as const,
    updated_at: now,
  };
  await db
    .insertInto('fleet_proof_cursors')
    .values({ collector, ...values })
    .onConflict((oc) => oc.column('collector').doUpdateSet(values))
    .execute();
}

/** Records a failed fetch: the error, attempts + 1, when to try next; `stopped` for refusals no retry fixes. */
export async function recordFleetProofFailure(
  db: Kysely<Schema>,
  collector: string,
  failure: { readonly error: string; readonly nextAttemptAt: number; readonly stopped: boolean },
  now: number,
): Promise<FleetProofCursor> {
  const existing = await getFleetProofCursor(db, collector);
  const values = {
    attempts: (existing?.attempts ?? 0) + 1,
    next_attempt_at: failure.nextAttemptAt,
    last_error: failure.error.slice(0, 2000),
    last_error_at: now,
    stopped: failure.stopped ? (1 as const) : (0 as const),
    updated_at: now,
  };
  await db
    .insertInto('fleet_proof_cursors')
    .values({ collector, cursor: '', fetched_at: null, ...values })
    .onConflict((oc) => oc.column('collector').doUpdateSet(values))
    .execute();
  return (await getFleetProofCursor(db, collector))!;
}

function proofOf(row: Selectable<FleetProofTable>): StoredFleetProof {
  return {
    collector: row.collector,
    treeSize: Number(row.tree_size),
    noteHash: row.note_hash,
    fleetTreeSize: Number(row.fleet_tree_size),
    receipt: row.receipt,
    state: row.state as AnchorJobState,
    updatedAt: Number(row.updated_at),
  };
}

function cursorOf(row: Omit<Selectable<FleetProofCursorTable>, 'updated_at'>): FleetProofCursor {
  return {
    collector: row.collector,
    cursor: row.cursor,
    fetchedAt: row.fetched_at === null ? undefined : Number(row.fetched_at),
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error ?? undefined,
    lastErrorAt: row.last_error_at === null ? undefined : Number(row.last_error_at),
    stopped: Number(row.stopped) === 1,
  };
}
