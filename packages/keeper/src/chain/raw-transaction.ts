import { Signature, Transaction, getBytes, toBeHex, type TransactionLike } from 'ethers';

/** A transaction as `eth_getBlockByNumber(n, true)` writes it (the fields re-serialisation needs). */
export interface RpcTransaction {
  readonly hash: string;
  readonly type?: string | null;
  readonly chainId?: string | null;
  readonly nonce: string;
  readonly gas: string;
  readonly gasPrice?: string | null;
  readonly maxFeePerGas?: string | null;
  readonly maxPriorityFeePerGas?: string | null;
  readonly maxFeePerBlobGas?: string | null;
  readonly blobVersionedHashes?: readonly string[] | null;
  readonly to?: string | null;
  readonly value: string;
  readonly input: string;
  readonly accessList?: readonly { address: string; storageKeys: readonly string[] }[] | null;
  readonly authorizationList?: readonly RpcAuthorization[] | null;
  readonly v?: string | null;
  readonly yParity?: string | null;
  readonly r: string;
  readonly s: string;
  /** The signed bytes, from nodes that send them (OpenEthereum/Parity did). */
  readonly raw?: string | null;
}

interface RpcAuthorization {
  readonly chainId: string;
  readonly address: string;
  readonly nonce: string;
  readonly yParity: string;
  readonly r: string;
  readonly s: string;
}

/**
 * The raw signed transaction — the transactions-trie value: the legacy RLP list or the EIP-2718 typed
 * envelope — rebuilt from its JSON with ethers (or the node's own `raw` bytes when it sends them). The
 * caller checks keccak256 of the result against the transaction hash: a field the JSON renders
 * differently makes a different hash, never a silently wrong proof.
 */
export function rawTransactionOf(tx: RpcTransaction): Uint8Array {
  if (tx.raw != null) return getBytes(tx.raw);
  const type = tx.type == null ? 0 : Number(tx.type);
  const like: TransactionLike = {
    type,
    nonce: Number(tx.nonce),
    gasLimit: BigInt(tx.gas),
    to: tx.to ?? null,
    value: BigInt(tx.value),
    data: tx.input,
    chainId: type === 0 ? legacyChainId(tx) : BigInt(tx.chainId ?? 0),
    signature: signatureOf(tx, type),
  };
  if (type === 0 || type === 1) like.gasPrice = BigInt(tx.gasPrice ?? 0);
  if (type >= 2) {
    like.maxFeePerGas = BigInt(tx.maxFeePerGas ?? 0);
    like.maxPriorityFeePerGas = BigInt(tx.maxPriorityFeePerGas ?? 0);
  }
  if (type >= 1)
    like.accessList = (tx.accessList ?? []).map((a) => ({ ...a, storageKeys: [...a.storageKeys] }));
  if (type === 3) {
    like.maxFeePerBlobGas = BigInt(tx.maxFeePerBlobGas ?? 0);
    like.blobVersionedHashes = [...(tx.blobVersionedHashes ?? [])];
  }
  if (type === 4) {
    like.authorizationList = (tx.authorizationList ?? []).map((a) => ({
      chainId: BigInt(a.chainId),
      address: a.address,
      nonce: BigInt(a.nonce),
      signature: Signature.from({ r: word(a.r), s: word(a.s), yParity: Number(a.yParity) === 1 ? 1 : 0 }),
    }));
  }
  return getBytes(Transaction.from(like).serialized);
}

/** EIP-155: v = chainId × 2 + 35/36; v = 27/28 is a signature without a chain id. */
function legacyChainId(tx: RpcTransaction): bigint {
  const v = BigInt(tx.v ?? 27);
  return v >= 35n ? (v - 35n) / 2n : 0n;
}

function signatureOf(tx: RpcTransaction, type: number): Signature {
  if (type === 0) return Signature.from({ r: word(tx.r), s: word(tx.s), v: BigInt(tx.v ?? 27) });
  const parity = Number(tx.yParity ?? tx.v ?? 0);
  return Signature.from({ r: word(tx.r), s: word(tx.s), yParity: parity === 1 ? 1 : 0 });
}

/** r and s as 32-byte words: JSON-RPC writes them as quantities, without leading zeroes. */
function word(quantity: string): string {
  return toBeHex(BigInt(quantity), 32);
}
