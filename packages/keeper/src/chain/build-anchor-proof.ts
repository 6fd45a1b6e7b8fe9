import { createMPT, createMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { verifyAnchorProof, type AnchorProof } from '@fieldproof/receipt';
import { getBytes, hexlify, keccak256 } from 'ethers';
import { encodeBlockHeader, type RpcBlockHeader } from './block-header-rlp.js';
import type { JsonRpcClient } from './json-rpc-client.js';
import { rawTransactionOf, type RpcTransaction } from './raw-transaction.js';

/**
 * Builds an anchor proof (docs/FORMATS.md, "Anchor proof"): fetches the anchoring block with its
 * transactions, encodes the header and rebuilds the transactions trie, and refuses — rather than guess —
 * when anything it rebuilt does not hash to what the block says:
 *
 * ```
 * block JSON ─encode─▶ rawHeader ─keccak─▶ = block.hash ?          else `header-hash`
 * each tx JSON ─re-serialise─▶ raw ─keccak─▶ = tx.hash ?           else `transaction-hash`
 * trie { rlp(i) ▶ raw_i } ─root─▶ = block.transactionsRoot ?       else `transactions-root`
 * ```
 */

/** `eth_getBlockByNumber(n, true)`: the header fields and the full transactions. */
export interface RpcBlock extends RpcBlockHeader {
  readonly hash: string;
  readonly number: string;
  readonly transactions: readonly (RpcTransaction | string)[];
}

export type AnchorProofBuildCheck =
  | 'not-mined'
  | 'reorged'
  | 'raw-tx'
  | 'header-hash'
  | 'transaction-hash'
  | 'transactions-root'
  | 'not-in-block'
  | 'self-check';

/** The node's data does not yield a proof; `check` names the step. Nothing is guessed. */
export class AnchorProofBuildError extends Error {
  override readonly name = 'AnchorProofBuildError';
  constructor(
    readonly check: AnchorProofBuildCheck,
    readonly reason: string,
    readonly expected?: string,
    readonly calculated?: string,
    options?: ErrorOptions,
  ) {
    super(`anchor proof: ${check}: ${reason}`, options);
  }
}

export interface BuildAnchorProofOptions {
  /** The anchor's signed bytes as sent; used instead of re-serialising it (they must hash to txHash). */
  readonly rawTx?: string;
}

/**
 * The anchor proof of mined transaction `txHash`, from a node's JSON-RPC (`eth_chainId`,
 * `eth_getTransactionByHash`, `eth_getBlockByNumber`). Precondition: the block is the one to prove —
 * call it once the anchor is final. Throws `AnchorProofBuildError`; transport errors propagate.
 */
export async function buildAnchorProof(
  rpc: Pick<JsonRpcClient, 'call'>,
  txHash: string,
  options: BuildAnchorProofOptions = {},
): Promise<AnchorProof> {
  const chainId = Number(await rpc.call<string>('eth_chainId', []));
  const tx = await rpc.call<{ blockNumber?: string | null; blockHash?: string | null } | null>(
    'eth_getTransactionByHash',
    [txHash],
  );
  if (tx == null || tx.blockNumber == null || tx.blockHash == null) {
    throw new AnchorProofBuildError('not-mined', `transaction ${txHash} is not in a block`);
  }
  const block = await rpc.call<RpcBlock | null>('eth_getBlockByNumber', [tx.blockNumber, true]);
  if (block == null || block.hash.toLowerCase() !== tx.blockHash.toLowerCase()) {
    throw new AnchorProofBuildError('reorged', `block ${Number(tx.blockNumber)} changed while it was read`);
  }
  return anchorProofFromBlock(block, { chainId, txHash, ...options });
}

/** `buildAnchorProof` without the network: the proof of `txHash` in `block` (full-transaction JSON). */
export async function anchorProofFromBlock(
  block: RpcBlock,
  target: { readonly chainId: number; readonly txHash: string; readonly rawTx?: string },
): Promise<AnchorProof> {
  const txHash = target.txHash.toLowerCase();
  const blockHash = block.hash.toLowerCase();
  const ownRaw = target.rawTx === undefined ? undefined : getBytes(target.rawTx);
  if (ownRaw !== undefined && keccak256(ownRaw) !== txHash) {
    throw new AnchorProofBuildError(
      'raw-tx',
      'the given raw transaction does not hash to txHash',
      txHash,
      keccak256(ownRaw),
    );
  }

  const rawHeader = encodeBlockHeader(block);
  if (keccak256(rawHeader) !== blockHash) {
    throw new AnchorProofBuildError(
      'header-hash',
      `the header encoded from block ${Number(block.number)} does not hash to its hash`,
      blockHash,
      keccak256(rawHeader),
    );
  }

  const trie = await createMPT();
  let txIndex = -1;
  let rawTx: Uint8Array | undefined;
  for (const [i, tx] of block.transactions.entries()) {
    if (typeof tx === 'string')
      throw new TypeError('anchorProofFromBlock needs the block with full transactions');
    const hash = tx.hash.toLowerCase();
    const raw = hash === txHash && ownRaw !== undefined ? ownRaw : rawTransactionOf(tx);
    if (keccak256(raw) !== hash) {
      throw new AnchorProofBuildError(
        'transaction-hash',
        `transaction ${i} of block ${Number(block.number)} re-serialises to other bytes`,
        hash,
        keccak256(raw),
      );
    }
    if (hash === txHash) [txIndex, rawTx] = [i, raw];
    await trie.put(RLP.encode(i), raw);
  }
  const root = hexlify(trie.root());
  if (root !== block.transactionsRoot?.toLowerCase()) {
    throw new AnchorProofBuildError(
      'transactions-root',
      `the rebuilt transactions trie of block ${Number(block.number)} has another root`,
      block.transactionsRoot ?? undefined,
      root,
    );
  }
  if (rawTx === undefined) {
    throw new AnchorProofBuildError('not-in-block', `transaction ${txHash} is not in block ${blockHash}`);
  }

  const proof: AnchorProof = {
    chainId: target.chainId,
    blockNumber: Number(block.number),
    blockHash,
    rawHeader: hexlify(rawHeader),
    txIndex,
    rawTx: hexlify(rawTx),
    // Inline (< 32-byte) nodes sit inside their parent; @ethereumjs/mpt lists them too, the format does
    // not. A transactions trie has none (its values are signed transactions), so this is a guard.
    txProof: (await createMerkleProof(trie, RLP.encode(txIndex)))
      .filter((node, i) => i === 0 || node.length >= 32)
      .map((node) => hexlify(node)),
  };
  try {
    // The offline verifier must accept what is stored; better to learn it now than from an auditor.
    verifyAnchorProof(proof);
  } catch (err) {
    throw new AnchorProofBuildError('self-check', (err as Error).message, undefined, undefined, {
      cause: err,
    });
  }
  return proof;
}
