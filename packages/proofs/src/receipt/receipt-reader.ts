import {
  directStatusBounds,
  findEvidenceWithLeaf,
  listAnchorProofsOfCheckpoint,
  listCosignaturesOfCheckpoint,
  listSmallestFinalFleetProofs,
  smallestFinalFleetTreeSize,
} from '@fieldproof/db';
import type { EvidenceWithLeaf, Schema, StatusBounds } from '@fieldproof/db';
import {
  RECEIPT_FORMAT,
  RECEIPT_FORMAT_V2,
  buildReceipt,
  evidenceRecordOf,
  verifyReceiptOffline,
  verifyReceiptV2Offline,
} from '@fieldproof/receipt';
import type { AnchorProof, Receipt, ReceiptAnchor, ReceiptParts, ReceiptV2 } from '@fieldproof/receipt';
import type { Kysely } from 'kysely';
import {
  checkpointAt,
  deviceVerifierKeyOrThrow,
  latestCheckpoint,
  type CheckpointView,
} from '../checkpoint/checkpoint-view.js';
import { EvidenceNotFoundError, LogInconsistencyError, NotSequencedError } from '../errors.js';
import { consistencyProofFor } from '../proof/consistency-proof-for.js';
import { inclusionProofFor } from '../proof/inclusion-proof-for.js';
import { receiptAnchorsOf } from './receipt-anchors.js';

/**
 * Builds receipts against one view of the log, taken when it is created: the newest checkpoint, the
 * anchoring bounds and the device key. Reuse one reader for many receipts (an export): each checkpoint's
 * note and anchors are read once, and every receipt then costs one query for its O(log n) proof nodes.
 */
export interface ReceiptReader<R extends Receipt | ReceiptV2 = Receipt | ReceiptV2> {
  /** Tree size of the newest checkpoint when the reader was created (0: none yet). */
  readonly treeSize: number;
  /** The device verifier key, once a checkpoint exists. */
  readonly verifierKey: string | undefined;
  /**
   * The receipt of one evidence row (`findEvidenceWithLeaf` / `listEvidence` rows). Throws
   * {@link NotSequencedError} for a row beyond {@link treeSize}, and {@link LogInconsistencyError}
   * rather than return a receipt that does not verify.
   */
  receiptOf(row: EvidenceWithLeaf): Promise<R>;
}

/** Which receipt format a reader builds: v2 (step chain, anchor proofs, cosignatures) unless asked for v1. */
export type ReceiptFormatName = typeof RECEIPT_FORMAT | typeof RECEIPT_FORMAT_V2;

export interface ReceiptReaderOptions {
  /** Default `fieldproof-receipt/v2`. */
  readonly format?: ReceiptFormatName;
}

/** One anchor branch through a fleet collector (`buildReceipt`'s `fleetPaths`, docs/FORMATS.md §9.5). */
type FleetPath = NonNullable<ReceiptParts['fleetPaths']>[number];

interface Target {
  readonly checkpoint: CheckpointView;
  readonly anchors: ReceiptAnchor[];
  readonly anchorProofs: AnchorProof[];
  readonly cosignatures: { witnessKey: string; line: string }[];
  readonly fleetPaths: FleetPath[];
}

/**
 * Which checkpoint a receipt proves inclusion in, from this unit's own anchors (`directStatusBounds`).
 * The newest checkpoint that covers the leaf and is anchored `final` on a chain; else the newest that is
 * included (or confirmed) on a chain; else, while no anchor covers the leaf, the newest signed
 * checkpoint (a v2 reader then prefers the smallest checkpoint with a final fleet proof covering the
 * leaf). An anchor of tree size N covers leaves 0 … N−1; stub anchors (chain id 0) are on no chain and
 * never count.
 */
export function receiptTreeSize(
  leafIndex: number,
  bounds: StatusBounds,
  latestTreeSize: number,
): number | undefined {
  if (leafIndex < bounds.final) return bounds.final;
  if (leafIndex < bounds.anchored) return bounds.anchored;
  if (leafIndex < latestTreeSize) return latestTreeSize;
  return undefined;
}

export async function createReceiptReader(
  db: Kysely<Schema>,
  options: { readonly format: typeof RECEIPT_FORMAT },
): Promise<ReceiptReader<Receipt>>;
export async function createReceiptReader(
  db: Kysely<Schema>,
  options?: ReceiptReaderOptions,
): Promise<ReceiptReader>;
export async function createReceiptReader(
  db: Kysely<Schema>,
  options: ReceiptReaderOptions = {},
): Promise<ReceiptReader> {
  const format = options.format ?? RECEIPT_FORMAT_V2;
  const latest = await latestCheckpoint(db);
  const bounds = await directStatusBounds(db);
  const verifierKey = latest === undefined ? undefined : await deviceVerifierKeyOrThrow(db);
  const targets = new Map<number, Promise<Target>>();
  const targetOf = (treeSize: number) => {
    let target = targets.get(treeSize);
    if (target === undefined) {
      target = loadTarget(db, treeSize, latest, format);
      targets.set(treeSize, target);
    }
    return target;
  };
  const treeSize = latest?.treeSize ?? 0;
  return {
    treeSize,
    verifierKey,
    async receiptOf(row) {
      const leafIndex = row.leaf_index === null ? undefined : Number(row.leaf_index);
      let size = leafIndex === undefined ? undefined : receiptTreeSize(leafIndex, bounds, treeSize);
      if (leafIndex === undefined || size === undefined || verifierKey === undefined) {
        throw new NotSequencedError(row.id);
      }
      if (format === RECEIPT_FORMAT_V2 && leafIndex >= bounds.anchored) {
        // No anchor of this unit covers the leaf: the smallest checkpoint anchored through a collector.
        size = (await smallestFinalFleetTreeSize(db, leafIndex + 1)) ?? size;
      }
      const { checkpoint, anchors, anchorProofs, cosignatures, fleetPaths } = await targetOf(size);
      const receipt = buildReceipt({
        format,
        anchorProofs,
        cosignatures,
        evidence: evidenceRecordOf(row),
        leafIndex,
        inclusionProof: await inclusionProofFor(db, leafIndex, size),
        checkpointNote: checkpoint.note,
        devicePublicKey: verifierKey,
        anchors,
        ...(fleetPaths.length > 0 ? { fleetPaths } : {}),
      });
      assertVerifies(receipt);
      return receipt;
    },
  };
}

/**
 * The receipt of one evidence record (see {@link ReceiptReader} and {@link receiptTreeSize}). Throws
 * {@link EvidenceNotFoundError}, {@link NotSequencedError} or {@link LogInconsistencyError}.
 */
export async function receiptFor(
  db: Kysely<Schema>,
  evidenceId: string,
  options: { readonly format: typeof RECEIPT_FORMAT },
): Promise<Receipt>;
export async function receiptFor(
  db: Kysely<Schema>,
  evidenceId: string,
  options?: ReceiptReaderOptions,
): Promise<Receipt | ReceiptV2>;
export async function receiptFor(
  db: Kysely<Schema>,
  evidenceId: string,
  options: ReceiptReaderOptions = {},
): Promise<Receipt | ReceiptV2> {
  const row = await findEvidenceWithLeaf(db, evidenceId);
  if (row === undefined) throw new EvidenceNotFoundError(evidenceId);
  if (row.leaf_index === null) throw new NotSequencedError(evidenceId);
  // Created after the leaf was read: the newest checkpoint then covers it (leaves and their checkpoint
  // commit together).
  const reader = await createReceiptReader(db, options);
  return reader.receiptOf(row);
}

async function loadTarget(
  db: Kysely<Schema>,
  treeSize: number,
  latest: CheckpointView | undefined,
  format: ReceiptFormatName,
): Promise<Target> {
  const checkpoint = latest?.treeSize === treeSize ? latest : await checkpointAt(db, treeSize);
  if (checkpoint === undefined) {
    throw new LogInconsistencyError(`an anchor names tree size ${treeSize}, which has no checkpoint`);
  }
  const anchors = await receiptAnchorsOf(db, treeSize);
  // A v1 receipt carries none of the rest: no query for it.
  if (format !== RECEIPT_FORMAT_V2)
    return { checkpoint, anchors, anchorProofs: [], cosignatures: [], fleetPaths: [] };
  return {
    checkpoint,
    anchors,
    anchorProofs: [...(await listAnchorProofsOfCheckpoint(db, treeSize))],
    cosignatures: await listCosignaturesOfCheckpoint(db, treeSize),
    fleetPaths: await fleetPathsOf(db, treeSize),
  };
}

/**
 * The fleet anchor paths of the checkpoint of `treeSize` leaves: per collector, its stored final fleet
 * proof of the smallest checkpoint of at least `treeSize` leaves — through a consistency proof to that
 * checkpoint when it is a later one.
 */
async function fleetPathsOf(db: Kysely<Schema>, treeSize: number): Promise<FleetPath[]> {
  const paths: FleetPath[] = [];
  for (const proof of await listSmallestFinalFleetProofs(db, treeSize)) {
    const fleetReceipt = JSON.parse(proof.receipt) as ReceiptV2;
    if (proof.treeSize === treeSize) {
      paths.push({ via: proof.collector, fleetReceipt });
      continue;
    }
    const later = await checkpointAt(db, proof.treeSize);
    if (later === undefined) {
      throw new LogInconsistencyError(
        `a fleet proof names tree size ${proof.treeSize}, which has no checkpoint`,
      );
    }
    paths.push({
      via: proof.collector,
      extend: { note: later.note, proof: await consistencyProofFor(db, treeSize, proof.treeSize) },
      fleetReceipt,
    });
  }
  return paths;
}

/**
 * Every receipt is verified offline before it leaves (≈ log n hashes; the note's signature is checked
 * once per checkpoint): a store that disagrees with itself must fail loudly here, not at an auditor's.
 */
function assertVerifies(receipt: Receipt | ReceiptV2): void {
  const verification =
    receipt.format === RECEIPT_FORMAT_V2 ? verifyReceiptV2Offline(receipt) : verifyReceiptOffline(receipt);
  if (verification.ok) return;
  const broken = verification.links
    .filter((l) => l.status === 'failed')
    .map((l) => `${l.link}: ${l.detail}`)
    .join('; ');
  throw new LogInconsistencyError(
    `the receipt of ${receipt.evidence.id} built from the store does not verify: ${broken}`,
  );
}
