import type { ReceiptEvidence } from '../receipt/receipt.js';

/** Version tag of the step-chain receipt (docs/FORMATS.md §9). */
export const RECEIPT_FORMAT_V2 = 'fieldproof-receipt/v2';

/**
 * `fieldproof-receipt/v2`: the record, then typed steps, each taking the value the step before it
 * produced and producing the next (docs/FORMATS.md §9 — the normative text):
 *
 * ```
 * evidence ─leaf─▶ leaf hash ─inclusion─▶ tree head ─checkpoint─▶ signed checkpoint ─cosignature*─▶ same
 *          anchors[i]: signed checkpoint [─consistency─▶ a later signed checkpoint]
 *                      [─fleet-leaf─▶ fleet leaf hash ─fleet-inclusion─▶ fleet tree head
 *                       ─fleet-checkpoint─▶ signed fleet checkpoint]
 *                      ─anchor-tx─▶ transaction ─tx-trie─▶ transactions root
 *                      ─header─▶ block (chainId, number, hash, time) ─block─▶ the claimed block
 * ```
 *
 * New kinds of evidence between two values (a fleet log between the device checkpoint and the chain)
 * are new step types; a verifier that meets a type it does not know fails that link rather than skip it.
 */
export interface ReceiptV2 {
  readonly format: typeof RECEIPT_FORMAT_V2;
  readonly evidence: ReceiptEvidence;
  /** From the record to the signed (and possibly cosigned) checkpoint. */
  readonly steps: readonly TrunkStep[];
  /** One branch per anchor, each from the checkpoint to a block. */
  readonly anchors: readonly AnchorBranch[];
}

export type TrunkStep = LeafStep | InclusionStep | CheckpointStep | CosignatureStep;
export type AnchorStep =
  | ConsistencyStep
  | FleetLeafStep
  | FleetInclusionStep
  | FleetCheckpointStep
  | AnchorTxStep
  | TxTrieStep
  | HeaderStep
  | BlockStep;
export type Step = TrunkStep | AnchorStep;
export type StepType = Step['type'];

/** record → leaf hash: the leaf data of `format` built from `evidence`; `leafHash` is informative. */
export interface LeafStep {
  readonly type: 'leaf';
  /** `fieldproof-leaf/v1` (or a later leaf format). */
  readonly format: string;
  readonly leafHash: string;
}

/** leaf hash → tree head (treeSize, root): an RFC 9162 inclusion proof, leaf level first. */
export interface InclusionStep {
  readonly type: 'inclusion';
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly proof: readonly string[];
}

/** tree head → signed checkpoint: a C2SP checkpoint note for that head, signed by `publicKey`. */
export interface CheckpointStep {
  readonly type: 'checkpoint';
  readonly note: string;
  /** The device's C2SP verifier key (`name+keyid+base64(0x01 ‖ key)`). */
  readonly publicKey: string;
}

/** signed checkpoint → the same: a C2SP tlog-cosignature/v1 by the witness `witnessKey`. */
export interface CosignatureStep {
  readonly type: 'cosignature';
  /** `name+keyid+base64(0x04 ‖ key)`. */
  readonly witnessKey: string;
  /** The signature line, `— <name> <base64(keyid ‖ timestamp ‖ signature)>` with its newline. */
  readonly line: string;
}

export interface AnchorBranch {
  /** Configured chain name; informative. */
  readonly chain: string;
  /** The keeper's state of the transaction when the receipt was made; informative. */
  readonly state: string;
  /** The collector whose fleet log the branch goes through, as the unit names it; informative. */
  readonly via?: string;
  readonly steps: readonly AnchorStep[];
}

/**
 * signed checkpoint (size m) → a later signed checkpoint (size n ≥ m) of the same log, signed by the
 * same key: `proof` is the RFC 9162 consistency proof from m to n, `note` the later checkpoint.
 */
export interface ConsistencyStep {
  readonly type: 'consistency';
  readonly note: string;
  readonly proof: readonly string[];
}

/**
 * device signed checkpoint → fleet leaf hash: `evidence` is the collector's fleet record of that
 * checkpoint (`fleetLeafRecordOf`: kind, note hash, origin, size, root); the output is its leaf hash.
 * `leafHash` is informative.
 */
export interface FleetLeafStep {
  readonly type: 'fleet-leaf';
  readonly evidence: ReceiptEvidence;
  readonly leafHash: string;
}

/** fleet leaf hash → fleet tree head (treeSize, root): an RFC 9162 inclusion proof in the fleet log. */
export interface FleetInclusionStep {
  readonly type: 'fleet-inclusion';
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly proof: readonly string[];
}

/** fleet tree head → signed fleet checkpoint: a C2SP checkpoint note signed by the collector's fleet key. */
export interface FleetCheckpointStep {
  readonly type: 'fleet-checkpoint';
  readonly note: string;
  /** The fleet log's C2SP verifier key (pin it with `--fleet-key`). */
  readonly publicKey: string;
}

/**
 * signed checkpoint → transaction: the transaction `txHash` on `chainId` whose calldata is the FPA1
 * payload of the checkpoint. With `rawTx` this is checked offline (keccak256(rawTx) = txHash); without
 * it (an anchor not yet final) only on a chain's RPC.
 */
export interface AnchorTxStep {
  readonly type: 'anchor-tx';
  readonly chainId: number;
  readonly txHash: string;
  readonly rawTx?: string;
  /** Sender, when stated; checked on RPC only (the raw transaction's signature is not recovered). */
  readonly from?: string;
}

/** transaction → transactions root: the trie proof of `rawTx` at key rlp(txIndex). */
export interface TxTrieStep {
  readonly type: 'tx-trie';
  readonly txIndex: number;
  readonly proof: readonly string[];
}

/** transactions root → block: the RLP header whose field 4 is that root; its keccak256 is the block hash. */
export interface HeaderStep {
  readonly type: 'header';
  readonly rawHeader: string;
}

/**
 * The block the branch ends in. After a `header` step every field must equal what the header gives;
 * without one (an anchor not yet final) it is the keeper's claim, checked on RPC only. `null` fields:
 * not in a block yet.
 */
export interface BlockStep {
  readonly type: 'block';
  readonly chainId: number;
  readonly number: number;
  readonly hash: string;
  /** Header timestamp in Unix ms. */
  readonly timestamp: number;
}

/** The step types this verifier knows, in the order they may appear. */
export const TRUNK_STEP_TYPES = ['leaf', 'inclusion', 'checkpoint', 'cosignature'] as const;
export const ANCHOR_STEP_TYPES = [
  'consistency',
  'fleet-leaf',
  'fleet-inclusion',
  'fleet-checkpoint',
  'anchor-tx',
  'tx-trie',
  'header',
  'block',
] as const;
