import { AnchorProofError } from './anchor-proof-error.js';
import { decodeRlp, hex0x, rlpBytes, rlpList, rlpUint, type RlpItem } from './rlp-values.js';

/** What an anchor check needs from a signed transaction: where it went, its calldata, its chain. */
export interface TransactionEnvelope {
  /** EIP-2718 type: 0 legacy, 1 EIP-2930, 2 EIP-1559, 3 EIP-4844, 4 EIP-7702. */
  readonly type: number;
  /** EIP-155 / typed chain id; `null` for a legacy transaction signed without one (v = 27 or 28). */
  readonly chainId: bigint | null;
  /** `0x` + 40 lowercase hex digits, or `null` for a contract creation. */
  readonly to: string | null;
  readonly data: Uint8Array;
}

/**
 * Field count and the positions of chain id, `to` and `data` in each envelope's RLP list (legacy:
 * [nonce, gasPrice, gas, to, value, data, v, r, s], chain id from v; typed: chain id first).
 */
const LAYOUTS: Readonly<Record<number, { fields: number; to: number; data: number }>> = {
  0: { fields: 9, to: 3, data: 5 },
  1: { fields: 11, to: 4, data: 6 }, // EIP-2930: chainId nonce gasPrice gas to value data accessList y r s
  2: { fields: 12, to: 5, data: 7 }, // EIP-1559: chainId nonce tip feeCap gas to value data accessList y r s
  3: { fields: 14, to: 5, data: 7 }, // EIP-4844: … accessList maxFeePerBlobGas blobVersionedHashes y r s
  4: { fields: 13, to: 5, data: 7 }, // EIP-7702: … accessList authorizationList y r s
};

/**
 * Decodes a raw signed transaction — the bytes of a transactions-trie value: an RLP list (legacy) or
 * an EIP-2718 typed envelope `type || rlp(payload)`. The signature is not checked (no sender recovery).
 * Throws `AnchorProofError` (`tx`).
 */
export function decodeTransactionEnvelope(raw: Uint8Array): TransactionEnvelope {
  const first = raw[0];
  if (first === undefined) throw new AnchorProofError('tx', 'the transaction is empty');
  const type = first >= 0xc0 ? 0 : first;
  const layout = LAYOUTS[type];
  if (layout === undefined) throw new AnchorProofError('tx', `unknown transaction type ${type}`);
  const body = type === 0 ? raw : raw.subarray(1);
  const fields = rlpList(decodeRlp(body, 'tx', `the type-${type} transaction`), 'tx', 'the transaction');
  if (fields.length !== layout.fields) {
    throw new AnchorProofError(
      'tx',
      `the type-${type} transaction has ${fields.length} fields, expected ${layout.fields}`,
    );
  }
  const to = rlpBytes(fields[layout.to], 'tx', 'the transaction `to`');
  if (to.length !== 0 && to.length !== 20) {
    throw new AnchorProofError('tx', `the transaction \`to\` is ${to.length} bytes, expected 20 or none`);
  }
  return {
    type,
    chainId: type === 0 ? legacyChainId(fields[6]) : rlpUint(fields[0], 'tx', 'the transaction chain id'),
    to: to.length === 0 ? null : hex0x(to),
    data: rlpBytes(fields[layout.data], 'tx', 'the transaction data'),
  };
}

/** EIP-155: v = chainId × 2 + 35 or 36; 27 and 28 are the unprotected (chainless) signatures. */
function legacyChainId(vItem: RlpItem | undefined): bigint | null {
  const v = rlpUint(vItem, 'tx', 'the transaction v');
  if (v === 27n || v === 28n) return null;
  if (v < 35n) throw new AnchorProofError('tx', `the legacy transaction has v = ${v}`);
  return (v - 35n) / 2n;
}
