import type { EvmChainClient } from './evm-chain-client.js';

/** What the chain suggests right now. */
export type FeeSuggestion =
  | { readonly type: 2; readonly baseFeePerGas: bigint; readonly maxPriorityFeePerGas: bigint }
  | { readonly type: 0; readonly gasPrice: bigint };

/** The fees of one signed transaction. A legacy (type 0) transaction carries its gas price in both. */
export interface TxFees {
  readonly type: 0 | 2;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

/** Priority fee when the node cannot suggest one (eth_maxPriorityFeePerGas is not standard). */
export const FALLBACK_PRIORITY_FEE = 1_000_000_000n;

/** EIP-1559 when the latest block has a base fee, legacy gas price otherwise. */
export async function suggestFees(client: EvmChainClient): Promise<FeeSuggestion> {
  const latest = await client.getBlock('latest');
  if (latest?.baseFeePerGas !== undefined) {
    const tip = (await client.maxPriorityFeePerGas()) ?? FALLBACK_PRIORITY_FEE;
    return { type: 2, baseFeePerGas: latest.baseFeePerGas, maxPriorityFeePerGas: tip };
  }
  return { type: 0, gasPrice: await client.gasPrice() };
}

/**
 * Fees for a new transaction: tip as suggested, fee cap twice the base fee plus the tip (room for six
 * full blocks of base-fee growth), never above `capWei`. Undefined when even the current base fee (or
 * gas price) is above the cap: the caller waits.
 */
export function initialFees(s: FeeSuggestion, capWei: bigint): TxFees | undefined {
  if (s.type === 0) {
    return s.gasPrice > capWei
      ? undefined
      : { type: 0, maxFeePerGas: s.gasPrice, maxPriorityFeePerGas: s.gasPrice };
  }
  if (s.baseFeePerGas >= capWei) return undefined;
  const maxFee = min(2n * s.baseFeePerGas + s.maxPriorityFeePerGas, capWei);
  return { type: 2, maxFeePerGas: maxFee, maxPriorityFeePerGas: min(s.maxPriorityFeePerGas, maxFee) };
}

/** Every replacement raises both fees by at least 12.5 % (geth's pool requires 10 %). */
export function minimumBump(value: bigint): bigint {
  return (value * 9n + 7n) / 8n; // ceil(value × 1.125)
}

/**
 * Fees for a replacement of `prev` (same nonce): both fees at least 12.5 % higher, and at least what
 * the chain suggests now; the fee cap never above `capWei`. Undefined when the cap leaves no room for a
 * valid bump: the caller keeps waiting for the transaction it has.
 */
export function bumpFees(prev: TxFees, s: FeeSuggestion, capWei: bigint): TxFees | undefined {
  const minMax = minimumBump(prev.maxFeePerGas);
  const minTip = minimumBump(prev.maxPriorityFeePerGas);
  if (prev.type === 0 || s.type === 0) {
    const suggested = s.type === 0 ? s.gasPrice : s.baseFeePerGas + s.maxPriorityFeePerGas;
    const price = max(max(minMax, minTip), suggested);
    if (price > capWei) {
      return capWei >= max(minMax, minTip)
        ? { type: prev.type, maxFeePerGas: capWei, maxPriorityFeePerGas: capWei }
        : undefined;
    }
    return { type: prev.type, maxFeePerGas: price, maxPriorityFeePerGas: price };
  }
  const tip = max(minTip, s.maxPriorityFeePerGas);
  const maxFee = min(max(minMax, 2n * s.baseFeePerGas + tip), capWei);
  if (maxFee < minMax || maxFee < minTip) return undefined;
  return { type: 2, maxFeePerGas: maxFee, maxPriorityFeePerGas: min(tip, maxFee) };
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
