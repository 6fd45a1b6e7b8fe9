import { parseCheckpoint, parseSignedNote, type Checkpoint } from '@fieldproof/note/verify';
import { canonicalJson, sha256Hex } from '../json/canonical-json.js';
import type { EvidenceRecord } from '../leaf/encode-leaf-data.js';
import { toHex } from '../hex.js';

/**
 * The fleet log (docs/FORMATS.md §9.5) is a log like a unit's, kept by a collector: each of its
 * evidence records is one device checkpoint the collector verified and cosigned. This is that record's
 * `kind`.
 */
export const FLEET_LEAF_KIND = 'device-checkpoint';

/**
 * Lowercase hex SHA-256 of the UTF-8 bytes of the device's signed note, exactly as the device signed it
 * (body and its own signature line(s); no cosignatures): the fleet record's `digest`.
 */
export function deviceNoteHash(signedNote: string): string {
  return sha256Hex(new TextEncoder().encode(signedNote));
}

/**
 * The fleet record of one device checkpoint: an ordinary `fieldproof-leaf/v1` record whose digest is
 * the note hash and whose metadata repeats the checkpoint's origin, tree size and root, so the fleet
 * leaf hash commits to all four. Throws the note package's errors for a note that does not parse.
 */
export function fleetLeafRecordOf(input: {
  readonly id: string;
  readonly signedNote: string;
  readonly receivedAt: number;
}): EvidenceRecord {
  const checkpoint = checkpointOf(input.signedNote);
  return {
    id: input.id,
    digest: deviceNoteHash(input.signedNote),
    kind: FLEET_LEAF_KIND,
    occurredAt: input.receivedAt,
    receivedAt: input.receivedAt,
    payloadMime: null,
    metadata: metadataOf(checkpoint),
  };
}

/**
 * Why `record` is not the fleet record of `signedNote` — its kind, digest or metadata differ — or
 * `undefined` when it is. `id` and the times are the collector's and are not compared.
 */
export function fleetLeafMismatch(record: EvidenceRecord, signedNote: string): string | undefined {
  let checkpoint: Checkpoint;
  try {
    checkpoint = checkpointOf(signedNote);
  } catch (err) {
    return `the device note does not parse: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (record.kind !== FLEET_LEAF_KIND) {
    return `the fleet record's kind is ${JSON.stringify(record.kind)}, not "${FLEET_LEAF_KIND}"`;
  }
  const digest = deviceNoteHash(signedNote);
  if (record.digest !== digest) {
    return `the fleet record names device note ${record.digest}, this note hashes to ${digest}`;
  }
  const expected = canonicalJson(metadataOf(checkpoint));
  const actual =
    record.metadata === undefined || record.metadata === null ? 'null' : safeJson(record.metadata);
  if (actual !== expected) {
    return `the fleet record's metadata is ${actual}, the device note says ${expected}`;
  }
  return undefined;
}

function checkpointOf(signedNote: string): Checkpoint {
  return parseCheckpoint(parseSignedNote(signedNote).text);
}

function metadataOf(checkpoint: Checkpoint) {
  return { origin: checkpoint.origin, treeSize: checkpoint.treeSize, root: toHex(checkpoint.root) };
}

function safeJson(value: unknown): string {
  try {
    return canonicalJson(value);
  } catch {
    return JSON.stringify(value) ?? String(value);
  }
}
