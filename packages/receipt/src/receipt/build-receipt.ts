import { keccak_256 } from '@noble/hashes/sha3.js';
import { parseCheckpoint, parseSignedNote } from '@fieldproof/note/verify';
import type { AnchorProof } from '../anchor-proof/anchor-proof.js';
import { bytesFrom0x, hex0x } from '../anchor-proof/rlp-values.js';
import { LEAF_FORMAT, LEAF_FORMAT_V2, leafHashOf, type EvidenceRecord } from '../leaf/encode-leaf-data.js';
import { toHex } from '../hex.js';
import { RECEIPT_FORMAT_V2, type AnchorBranch, type AnchorStep, type ReceiptV2 } from '../v2/receipt-v2.js';
import { validateReceiptV2 } from '../v2/validate-receipt-v2.js';
import {
  RECEIPT_FORMAT,
  isStubAnchor,
  type Receipt,
  type ReceiptAnchor,
  type ReceiptEvidence,
} from './receipt.js';
import { validateReceipt } from './validate-receipt.js';
import { ReceiptFormatError } from '../errors.js';

/**
 * What a server knows about one record, from which `buildReceipt` assembles its receipt. Plain data:
 * the device (`@fieldproof/proofs`) and the collector each fill it from their own tables.
 */
export interface ReceiptParts {
  readonly evidence: EvidenceRecord;
  readonly leafIndex: number;
  /** Inclusion proof of `leafIndex` in the checkpoint's tree: bytes or lowercase hex. */
  readonly inclusionProof: readonly (Uint8Array | string)[];
  /** The signed checkpoint note (anchored if any anchor exists, else the latest). */
  readonly checkpointNote: string;
  /** The device's verifier key string. */
  readonly devicePublicKey: string;
  /** Anchors of that checkpoint. */
  readonly anchors?: readonly ReceiptAnchor[];
  /** v2: witness cosignatures of that checkpoint (C2SP tlog-cosignature lines and the witness keys). */
  readonly cosignatures?: readonly { readonly witnessKey: string; readonly line: string }[];
  /**
   * v2: anchor proofs (docs/FORMATS.md §8) of some of `anchors`, matched by keccak256(rawTx) = txHash;
   * an anchor with a proof becomes a proven branch (checkable offline), one without stays a claim.
   */
  readonly anchorProofs?: readonly AnchorProof[];
  /**
   * v2: anchor branches through a fleet log (docs/FORMATS.md §9.5): each from the fleet leaf's own v2
   * receipt (as the collector serves it), optionally after a consistency step to the later device
   * checkpoint the fleet leaf names.
   */
  readonly fleetPaths?: readonly FleetPath[];
  /**
   * v2: direct anchors of a later checkpoint of the same log, each branch after a consistency step from
   * `checkpointNote` to `extend.note` (docs/FORMATS.md §9.5); their proofs are looked up in `anchorProofs`.
   */
  readonly laterAnchors?: readonly {
    readonly extend: LaterCheckpoint;
    readonly anchors: readonly ReceiptAnchor[];
  }[];
  /** Default `fieldproof-receipt/v2`; v1 for holders of older verifiers (`fieldproof export --receipt-format v1`). */
  readonly format?: typeof RECEIPT_FORMAT | typeof RECEIPT_FORMAT_V2;
}

/** A later signed checkpoint of the receipt's log and the consistency proof to it: a `consistency` step. */
export interface LaterCheckpoint {
  readonly note: string;
  readonly proof: readonly (Uint8Array | string)[];
}

/** One collector's proofs of a device checkpoint, for `ReceiptParts.fleetPaths`. */
export interface FleetPath {
  /** The collector's name on the unit; the branches' informative `via`. */
  readonly via: string;
  /** From the receipt's checkpoint to the later one the fleet leaf names, when it names a later one. */
  readonly extend?: LaterCheckpoint;
  /** Evidence = the fleet record; steps leaf, inclusion, checkpoint (cosignatures dropped); anchors. */
  readonly fleetReceipt: ReceiptV2;
}

/**
 * Assembles a receipt: computes the leaf hash from the evidence, writes hashes as lowercase hex, and
 * validates the result (`ReceiptFormatError`, `LeafEncodingError`, or the note package's errors for an
 * unparsable note). It does not verify proofs or signatures: a verifier does (`createReceiptChecker`).
 */
export function buildReceipt(parts: ReceiptParts & { readonly format: typeof RECEIPT_FORMAT }): Receipt;
export function buildReceipt(parts: ReceiptParts & { readonly format?: typeof RECEIPT_FORMAT_V2 }): ReceiptV2;
export function buildReceipt(parts: ReceiptParts): Receipt | ReceiptV2;
export function buildReceipt(parts: ReceiptParts): Receipt | ReceiptV2 {
  return parts.format === RECEIPT_FORMAT ? buildReceiptV1(parts) : buildReceiptV2(parts);
}

function evidenceOf(evidence: EvidenceRecord): ReceiptEvidence {
  return {
    id: evidence.id,
    digest: evidence.digest,
    kind: evidence.kind,
    occurredAt: evidence.occurredAt,
    receivedAt: evidence.receivedAt,
    payloadMime: evidence.payloadMime ?? null,
    metadata: evidence.metadata ?? null,
    ...(evidence.leafFormat === LEAF_FORMAT_V2
      ? {
          leafFormat: LEAF_FORMAT_V2,
          notBefore: evidence.notBefore ?? null,
          clockSuspect: evidence.clockSuspect ?? false,
        }
      : {}),
  };
}

const proofHex = (hash: Uint8Array | string): string => (typeof hash === 'string' ? hash : toHex(hash));

function buildReceiptV1(parts: ReceiptParts): Receipt {
  const { evidence, leafIndex, inclusionProof, checkpointNote, devicePublicKey, anchors = [] } = parts;
  const checkpoint = parseCheckpoint(parseSignedNote(checkpointNote).text);
  const receipt: Receipt = {
    format: RECEIPT_FORMAT,
    evidence: evidenceOf(evidence),
    leaf: { leafIndex, leafHash: toHex(leafHashOf(evidence)) },
    inclusion: { treeSize: checkpoint.treeSize, proof: inclusionProof.map(proofHex) },
    checkpoint: {
      note: checkpointNote,
      origin: checkpoint.origin,
      treeSize: checkpoint.treeSize,
      root: toHex(checkpoint.root),
    },
    device: { publicKey: devicePublicKey },
    anchors: anchors.map(copyAnchor),
  };
  return validateReceipt(receipt);
}

function buildReceiptV2(parts: ReceiptParts): ReceiptV2 {
  const { evidence, leafIndex, inclusionProof, checkpointNote, devicePublicKey } = parts;
  const checkpoint = parseCheckpoint(parseSignedNote(checkpointNote).text);
  const proofs = new Map<string, AnchorProof>();
  for (const proof of parts.anchorProofs ?? []) {
    proofs.set(`${proof.chainId}:${hex0x(keccak_256(bytesFrom0x(proof.rawTx, 'rawTx')))}`, proof);
  }
  // A stub anchor is on no chain: it proves nothing, and a v2 receipt leaves it out.
  const branchesOf = (anchors: readonly ReceiptAnchor[], before: AnchorStep[] = []): AnchorBranch[] =>
    anchors
      .filter((a) => !isStubAnchor(a))
      .map((a) => {
        const branch = branchOf(a, proofs.get(`${a.chainId}:${a.txHash}`));
        return { ...branch, steps: [...before, ...branch.steps] };
      });
  const cosignatures = [...(parts.cosignatures ?? [])].sort((a, b) => (a.witnessKey < b.witnessKey ? -1 : 1));
  const receipt: ReceiptV2 = {
    format: RECEIPT_FORMAT_V2,
    evidence: evidenceOf(evidence),
    steps: [
      { type: 'leaf', format: evidence.leafFormat ?? LEAF_FORMAT, leafHash: toHex(leafHashOf(evidence)) },
      { type: 'inclusion', leafIndex, treeSize: checkpoint.treeSize, proof: inclusionProof.map(proofHex) },
      { type: 'checkpoint', note: checkpointNote, publicKey: devicePublicKey },
      ...cosignatures.map((c) => ({
        type: 'cosignature' as const,
        witnessKey: c.witnessKey,
        line: c.line.endsWith('\n') ? c.line : `${c.line}\n`,
      })),
    ],
    anchors: [
      ...branchesOf(parts.anchors ?? []),
      ...(parts.laterAnchors ?? []).flatMap((l) => branchesOf(l.anchors, [consistencyStep(l.extend)])),
      ...(parts.fleetPaths ?? []).flatMap(fleetBranchesOf),
    ],
  };
  return validateReceiptV2(receipt);
}

function branchOf(anchor: ReceiptAnchor, proof: AnchorProof | undefined): AnchorBranch {
  const from = anchor.from === undefined ? {} : { from: anchor.from };
  const steps: AnchorStep[] =
    proof !== undefined && proof.blockHash === anchor.blockHash && anchor.blockTimestamp !== null
      ? [
          { type: 'anchor-tx', chainId: anchor.chainId, txHash: anchor.txHash, rawTx: proof.rawTx, ...from },
          { type: 'tx-trie', txIndex: proof.txIndex, proof: [...proof.txProof] },
          { type: 'header', rawHeader: proof.rawHeader },
          {
            type: 'block',
            chainId: anchor.chainId,
            number: proof.blockNumber,
            hash: proof.blockHash,
            timestamp: anchor.blockTimestamp,
          },
        ]
      : [
          { type: 'anchor-tx', chainId: anchor.chainId, txHash: anchor.txHash, ...from },
          ...(anchor.blockNumber === null || anchor.blockHash === null || anchor.blockTimestamp === null
            ? []
            : [
                {
                  type: 'block' as const,
                  chainId: anchor.chainId,
                  number: anchor.blockNumber,
                  hash: anchor.blockHash,
                  timestamp: anchor.blockTimestamp,
                },
              ]),
        ];
  return { chain: anchor.chain, state: anchor.state, steps };
}

/**
 * `[consistency] fleet-leaf fleet-inclusion fleet-checkpoint` + each anchor branch of the fleet leaf's
 * receipt that starts at its checkpoint (proven, or a claim without proof).
 */
function fleetBranchesOf(path: FleetPath): AnchorBranch[] {
  const { fleetReceipt, extend, via } = path;
  const [leaf, inclusion, checkpoint] = fleetReceipt.steps;
  if (leaf?.type !== 'leaf' || inclusion?.type !== 'inclusion' || checkpoint?.type !== 'checkpoint') {
    throw new ReceiptFormatError('fleetReceipt.steps', 'expected leaf, inclusion, checkpoint');
  }
  const before: AnchorStep[] = [
    ...(extend === undefined ? [] : [consistencyStep(extend)]),
    { type: 'fleet-leaf', evidence: fleetReceipt.evidence, leafHash: leaf.leafHash },
    {
      type: 'fleet-inclusion',
      leafIndex: inclusion.leafIndex,
      treeSize: inclusion.treeSize,
      proof: inclusion.proof,
    },
    { type: 'fleet-checkpoint', note: checkpoint.note, publicKey: checkpoint.publicKey },
  ];
  return fleetReceipt.anchors
    .filter((branch) => branch.steps[0]?.type === 'anchor-tx')
    .map((branch) => ({
      chain: branch.chain,
      state: branch.state,
      via,
      steps: [...before, ...branch.steps],
    }));
}

function consistencyStep(later: LaterCheckpoint): AnchorStep {
  return { type: 'consistency', note: later.note, proof: later.proof.map(proofHex) };
}

function copyAnchor(anchor: ReceiptAnchor): ReceiptAnchor {
  const { chain, chainId, txHash, blockNumber, blockHash, blockTimestamp, state, from, to } = anchor;
  return {
    chain,
    chainId,
    txHash,
    blockNumber,
    blockHash,
    blockTimestamp,
    state,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}
