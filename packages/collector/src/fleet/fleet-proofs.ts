import { findEvidenceWithLeaf } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { createReceiptReader } from '@fieldproof/proofs';
import type { CollectorDatabase } from '../db/collector-database.js';
import { listDeviceCheckpointsInFleetRange } from '../db/fleet-checkpoints.js';
import { deviceNoteHash, type ReceiptV2 } from '@fieldproof/receipt';
import { listFinalFleetAnchors } from './fleet-log-queries.js';

/** One entry of `GET /v1/devices/:origin/fleet-proofs` (docs/COLLECTOR.md, "Fleet anchoring"). */
export interface FleetProofEntry {
  readonly treeSize: number;
  readonly noteHash: string;
  readonly receipt: ReceiptV2;
}

export interface FleetProofPage {
  readonly cursor: string;
  readonly more: boolean;
  readonly proofs: FleetProofEntry[];
}

/**
 * Where the feed stands: the final anchor being walked (its proof's stored time and transaction id) and
 * the last device tree size listed under it. Opaque to units (base64url JSON).
 */
interface FeedPosition {
  readonly proofCreatedAt: number;
  readonly txId: string;
  readonly treeSize: number;
}

/** A tree size past every device checkpoint: the position after an anchor's last entry. */
const PAST = Number.MAX_SAFE_INTEGER;
const START: FeedPosition = { proofCreatedAt: 0, txId: '', treeSize: 0 };
/** Final anchors read per query while walking the feed. */
const ANCHOR_PAGE = 64;
/** Final anchors walked per request at most (then `more` with the cursor where the walk stopped). */
const WALK_MAX = 2_048;
/**
 * A final page's cursor goes back this far, so that an anchor proof a replica stored a little earlier
 * but committed after this read (or under a clock a little behind) is listed on the next call. Units
 * upsert entries, so seeing one twice is harmless.
 */
export const FEED_OVERLAP_MS = 60_000;

export class FleetCursorError extends Error {
  override readonly name = 'FleetCursorError';
}

export function decodeFleetCursor(cursor: string | undefined): FeedPosition {
  if (cursor === undefined || cursor === '') return START;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<FeedPosition>;
    if (
      Number.isSafeInteger(v.proofCreatedAt) &&
      typeof v.txId === 'string' &&
      Number.isSafeInteger(v.treeSize)
    ) {
      return { proofCreatedAt: v.proofCreatedAt!, txId: v.txId, treeSize: v.treeSize! };
    }
  } catch {
    // falls through
  }
  throw new FleetCursorError('not a cursor this collector gave out');
}

function encodeCursor(p: FeedPosition): string {
  return Buffer.from(JSON.stringify(p), 'utf8').toString('base64url');
}

/**
 * The fleet proofs of one device after `after`: walks the fleet log's final anchors in the order their
 * proofs were stored; each newly covers the fleet leaves `[fromLeaf, treeSize)` on its chain (from the
 * largest smaller tree size final on that chain); the device's checkpoints among those leaves are listed
 * with the current v2 receipt of their fleet leaf (`@fieldproof/proofs` on the fleet database). A lost
 * anchor that is anchored again is a new final anchor, so its leaves are listed again ("receipts follow
 * the new anchor"). Receipts without a final proven anchor are left out.
 */
export async function listFleetProofs(
  collector: CollectorDatabase,
  fleet: Database,
  request: {
    readonly deviceId: string;
    readonly after: string | undefined;
    readonly limit: number;
    readonly now: number;
  },
): Promise<FleetProofPage> {
  let position = decodeFleetCursor(request.after);
  const proofs: FleetProofEntry[] = [];
  const listed = new Set<number>();
  let walked = 0;
  for (;;) {
    const anchors = await listFinalFleetAnchors(fleet.db, position, ANCHOR_PAGE);
    // After the anchors were read: the reader's view includes them.
    const reader = await createReceiptReader(fleet.db);
    for (const anchor of anchors) {
      const same = anchor.proofCreatedAt === position.proofCreatedAt && anchor.txId === position.txId;
      const rows = await listDeviceCheckpointsInFleetRange(
        collector.db,
        request.deviceId,
        { fromLeaf: anchor.fromLeaf, toLeaf: anchor.treeSize, afterTreeSize: same ? position.treeSize : 0 },
        request.limit - proofs.length + 1,
      );
      for (const row of rows) {
        if (proofs.length === request.limit) {
          return { cursor: encodeCursor(position), more: true, proofs };
        }
        position = { proofCreatedAt: anchor.proofCreatedAt, txId: anchor.txId, treeSize: row.treeSize };
        if (listed.has(row.treeSize)) continue;
        const evidence = await findEvidenceWithLeaf(fleet.db, row.fleetEvidenceId);
        if (evidence === undefined || evidence.leaf_index === null || evidence.leaf_index >= reader.treeSize)
          continue;
        const receipt = (await reader.receiptOf(evidence)) as ReceiptV2;
        if (!hasFinalProvenAnchor(receipt)) continue;
        listed.add(row.treeSize);
        proofs.push({ treeSize: row.treeSize, noteHash: deviceNoteHash(row.signedNote), receipt });
      }
      // Every listed row of this anchor is behind the position: move past the anchor itself.
      position = { proofCreatedAt: anchor.proofCreatedAt, txId: anchor.txId, treeSize: PAST };
      if (++walked >= WALK_MAX) return { cursor: encodeCursor(position), more: true, proofs };
    }
    if (anchors.length < ANCHOR_PAGE) break;
  }
  // The last page: step back over the overlap window (never behind where this request started).
  const start = decodeFleetCursor(request.after);
  const overlap = request.now - FEED_OVERLAP_MS;
  const back =
    position.proofCreatedAt > overlap
      ? overlap > start.proofCreatedAt
        ? { proofCreatedAt: overlap, txId: '', treeSize: 0 }
        : start
      : position;
  return { cursor: encodeCursor(back), more: false, proofs };
}

function hasFinalProvenAnchor(receipt: ReceiptV2): boolean {
  return receipt.anchors.some((a) => a.state === 'final' && a.steps.some((s) => s.type === 'header'));
}
