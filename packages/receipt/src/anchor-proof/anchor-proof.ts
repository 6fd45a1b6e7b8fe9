import { RLP } from '@ethereumjs/rlp';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { AnchorProofError } from './anchor-proof-error.js';
import { decodeBlockHeader } from './block-header.js';
import { bytesEqual, bytesFrom0x, hex0x } from './rlp-values.js';
import { decodeTransactionEnvelope } from './transaction-envelope.js';
import { trieProofValue } from './trie-proof.js';

/**
 * An anchor proof (docs/FORMATS.md, "Anchor proof"): the anchor transaction, proven to be in block
 * `blockHash` by the block's own header and transactions trie — checkable offline. Plain JSON.
 *
 * ```
 * blockHash ══keccak══ rawHeader ──field 4──▶ transactionsRoot ──txProof, key rlp(txIndex)──▶ rawTx
 * ```
 */
export interface AnchorProof {
  /** EIP-155 chain id. */
  readonly chainId: number;
  readonly blockNumber: number;
  /** `0x` + 64 lowercase hex digits. */
  readonly blockHash: string;
  /** The RLP-encoded block header, `0x` + lowercase hex. */
  readonly rawHeader: string;
  /** The transaction's position in the block (0-based). */
  readonly txIndex: number;
  /** The raw signed transaction (legacy RLP or EIP-2718 typed envelope), `0x` + lowercase hex. */
  readonly rawTx: string;
  /** The transactions-trie proof: RLP nodes from the root to the leaf holding `rawTx`, `0x` + hex each. */
  readonly txProof: readonly string[];
}

/** What a valid anchor proof establishes, given that `blockHash` is canonical on `chainId`. */
export interface VerifiedAnchorProof {
  readonly chainId: number;
  readonly blockNumber: number;
  readonly blockHash: string;
  /** The header's timestamp, in milliseconds (header seconds × 1000): the "no later than" time. */
  readonly blockTimestamp: number;
  readonly txIndex: number;
  /** keccak256(rawTx), `0x` + lowercase hex. */
  readonly txHash: string;
  readonly txType: number;
  readonly to: string | null;
  /** The transaction's calldata. */
  readonly data: Uint8Array;
}

const PROOF_FIELDS = [
  'chainId',
  'blockNumber',
  'blockHash',
  'rawHeader',
  'txIndex',
  'rawTx',
  'txProof',
] as const;

/** At most this many trie nodes: a key of 9 bytes (any JSON-safe index) is 18 nibbles deep. */
const MAX_PROOF_NODES = 64;
const BLOCK_HASH = /^0x[0-9a-f]{64}$/;

/**
 * Verifies an anchor proof offline, in the order of docs/FORMATS.md: `format`, `header-hash`
 * (keccak256(rawHeader) = blockHash), `header` (decodes; its transactionsRoot), `block-number`,
 * `tx-proof` (the trie holds exactly rawTx at rlp(txIndex) under that root), `tx` (the envelope
 * decodes), `chain-id` (the transaction's chain id is `chainId`). It does not know whether the block is
 * canonical: that is the caller's (trusted block list or RPC). Throws `AnchorProofError`.
 */
export function verifyAnchorProof(proof: AnchorProof): VerifiedAnchorProof {
  if (typeof proof !== 'object' || proof === null) throw new AnchorProofError('format', 'not an object');
  const fields = Object.keys(proof);
  const extra = fields.filter((f) => !(PROOF_FIELDS as readonly string[]).includes(f));
  const missing = PROOF_FIELDS.filter((f) => !fields.includes(f));
  if (extra.length > 0 || missing.length > 0) {
    // An unknown field would look vouched for without being checked.
    const parts = [...missing.map((f) => `missing ${f}`), ...extra.map((f) => `unknown field ${f}`)];
    throw new AnchorProofError('format', parts.join(', '));
  }
  const { chainId, blockNumber, txIndex } = proof;
  for (const [name, value] of [
    ['chainId', chainId],
    ['blockNumber', blockNumber],
    ['txIndex', txIndex],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new AnchorProofError('format', `${name} must be an integer in 0 … 2^53 - 1`);
    }
  }
  if (typeof proof.blockHash !== 'string' || !BLOCK_HASH.test(proof.blockHash)) {
    throw new AnchorProofError('format', 'blockHash must be 0x followed by 64 lowercase hex digits');
  }
  const rawHeader = bytesFrom0x(proof.rawHeader, 'rawHeader');
  const rawTx = bytesFrom0x(proof.rawTx, 'rawTx');
  if (!Array.isArray(proof.txProof) || proof.txProof.length === 0 || proof.txProof.length > MAX_PROOF_NODES) {
    throw new AnchorProofError('format', `txProof must be an array of 1 … ${MAX_PROOF_NODES} nodes`);
  }
  const nodes = proof.txProof.map((node, i) => bytesFrom0x(node, `txProof[${i}]`));

  const headerHash = hex0x(keccak_256(rawHeader));
  if (headerHash !== proof.blockHash) {
    throw new AnchorProofError(
      'header-hash',
      `keccak256(rawHeader) is ${headerHash}, not ${proof.blockHash}`,
    );
  }
  const header = decodeBlockHeader(rawHeader);
  if (header.number !== blockNumber) {
    throw new AnchorProofError('block-number', `the header is block ${header.number}, not ${blockNumber}`);
  }
  const value = trieProofValue(header.transactionsRoot, RLP.encode(txIndex), nodes);
  if (!bytesEqual(value, rawTx)) {
    throw new AnchorProofError('tx-proof', `the trie holds other bytes than rawTx at index ${txIndex}`);
  }
  const tx = decodeTransactionEnvelope(rawTx);
  if (tx.chainId === null) {
    throw new AnchorProofError('chain-id', 'the transaction is signed without a chain id (pre-EIP-155)');
  }
  if (tx.chainId !== BigInt(chainId)) {
    throw new AnchorProofError('chain-id', `the transaction is for chain ${tx.chainId}, not ${chainId}`);
  }
  return {
    chainId,
    blockNumber,
    blockHash: proof.blockHash,
    blockTimestamp: header.timestamp * 1000,
    txIndex,
    txHash: hex0x(keccak_256(rawTx)),
    txType: tx.type,
    to: tx.to,
    data: tx.data,
  };
}
