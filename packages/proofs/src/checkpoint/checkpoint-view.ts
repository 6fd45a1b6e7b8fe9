import { LOG_META, getCheckpoint, getLatestCheckpoint, getLogMeta } from '@fieldproof/db';
import type { LogCheckpointRow, Schema } from '@fieldproof/db';
import { toHex } from '@fieldproof/merkle';
import { parseCheckpoint, parseSignedNote } from '@fieldproof/note';
import type { Kysely } from 'kysely';
import { LogInconsistencyError } from '../errors.js';

/** A signed checkpoint as stored: the note and its fields (read from the note itself). */
export interface CheckpointView {
  /** The C2SP signed note, exactly as signed. */
  readonly note: string;
  readonly origin: string;
  readonly treeSize: number;
  /** Root hash, 64 lowercase hex. */
  readonly root: string;
  /** When the keeper wrote it (Unix ms). */
  readonly createdAt: number;
}

/** The checkpoint of the largest tree, if any was written. One primary-key read. */
export async function latestCheckpoint(db: Kysely<Schema>): Promise<CheckpointView | undefined> {
  const row = await getLatestCheckpoint(db);
  return row === undefined ? undefined : viewOf(row);
}

/** The checkpoint of exactly `treeSize` leaves, if one was written. One primary-key read. */
export async function checkpointAt(
  db: Kysely<Schema>,
  treeSize: number,
): Promise<CheckpointView | undefined> {
  const row = await getCheckpoint(db, treeSize);
  return row === undefined ? undefined : viewOf(row);
}

/**
 * The device's verifier key (C2SP vkey) from `log_meta`, where the keeper records it on first start.
 * Throws {@link LogInconsistencyError} when checkpoints exist but the key was never recorded.
 */
export async function deviceVerifierKeyOrThrow(db: Kysely<Schema>): Promise<string> {
  const key = await getLogMeta(db, LOG_META.verifierKey);
  if (key === undefined) throw new LogInconsistencyError('log_meta holds no device verifier key');
  return key;
}

/**
 * The fields come from the signed note, not from the row's copies: a receipt must carry what was
 * signed. A row whose copies disagree with its note is a broken store.
 */
function viewOf(row: LogCheckpointRow): CheckpointView {
  let parsed;
  try {
    parsed = parseCheckpoint(parseSignedNote(row.signed_note).text);
  } catch (err) {
    throw new LogInconsistencyError(`checkpoint ${row.tree_size}: the stored note does not parse`, {
      cause: err,
    });
  }
  const root = toHex(parsed.root);
  if (parsed.treeSize !== Number(row.tree_size) || root !== row.root_hash || parsed.origin !== row.origin) {
    throw new LogInconsistencyError(
      `checkpoint ${row.tree_size}: the stored note says ${parsed.origin}@${parsed.treeSize} root ${root}`,
    );
  }
  return {
    note: row.signed_note,
    origin: parsed.origin,
    treeSize: parsed.treeSize,
    root,
    createdAt: Number(row.created_at),
  };
}
