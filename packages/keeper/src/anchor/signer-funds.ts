import { getLatestCheckpoint } from '@fieldproof/db';
import { encodeAnchorPayload } from '@fieldproof/receipt';
import { getBytes, hexlify } from 'ethers';
import { describeChainError } from '../chain/chain-errors.js';
import { RpcResponseError } from '../chain/json-rpc-client.js';
import { initialFees, suggestFees } from '../chain/fees.js';
import type { ChainContext } from './anchor-context.js';
import { withGasHeadroom } from './send-anchor.js';

/** What the last look at the signer's balance on one chain found. */
export type FundsStatus =
  | { readonly kind: 'unchecked' }
  /** No check has had a usable answer yet (the RPC's own health tracking says more). */
  | { readonly kind: 'unknown'; readonly error: string }
  | {
      readonly kind: 'checked';
      readonly balanceWei: bigint;
      /** What one anchor may cost: gas limit × max fee per gas, as the node checks before admitting it. */
      readonly neededWei: bigint;
      readonly gasLimit: bigint;
      readonly maxFeePerGas: bigint;
    };

/**
 * Gas of a transaction that only carries `data` to an account without code, at most: 21 000 plus, per
 * calldata token (a zero byte is 1 token, any other byte 4), the larger of the standard cost (4 gas)
 * and the EIP-7623 floor (10 gas) — right before and after Prague.
 */
export function calldataGasUpperBound(data: Uint8Array): bigint {
  let tokens = 0n;
  for (const byte of data) tokens += byte === 0 ? 1n : 4n;
  return 21_000n + 10n * tokens;
}

/** Stands in for the origin before the first checkpoint; longer than a default origin (overestimates). */
const PLACEHOLDER_ORIGIN = 'x'.repeat(64);

/**
 * Whether the anchoring signer can pay for one anchor on this chain. An unfunded signer otherwise fails
 * every broadcast with "insufficient funds" while the keeper looks healthy; this makes it a readiness
 * failure and a metric instead.
 *
 * The cost is what a node requires before it admits the transaction: the gas limit the keeper would
 * sign (eth_estimateGas of an anchor of the newest checkpoint, plus the same headroom) × the max fee
 * per gas it would offer now (initialFees; the chain's fee cap when fees are above it). Checked at most
 * every `confirmPollMs` on the keeper's clock, from the chain's worker, so the cadence is the
 * confirmation poll's and tests drive it with an injected clock.
 */
export class SignerFunds {
  #status: FundsStatus = { kind: 'unchecked' };
  #checkedAt = Number.NEGATIVE_INFINITY;
  #short = false;

  constructor(private readonly ctx: ChainContext) {}

  get status(): FundsStatus {
    return this.#status;
  }

  /** Checks when `confirmPollMs` has passed since the last check. Never throws. */
  async checkWhenDue(): Promise<void> {
    const now = this.ctx.now();
    if (now - this.#checkedAt < this.ctx.settings.confirmPollMs) return;
    this.#checkedAt = now;
    await this.check();
  }

  /**
   * Reads the balance and prices one anchor now. Never throws: a failed check keeps the last answer
   * (a flaky node must not make an empty account look funded), or is `unknown` before the first.
   */
  async check(): Promise<FundsStatus> {
    const { ctx } = this;
    const { chain, signer, client } = ctx;
    try {
      const balanceWei = await client.balance(signer.address);
      const suggestion = await suggestFees(client);
      const maxFeePerGas =
        initialFees(suggestion, chain.maxFeePerGasWei)?.maxFeePerGas ?? chain.maxFeePerGasWei;
      const data = hexlify(
        encodeAnchorPayload({
          origin: (await getLatestCheckpoint(ctx.database.db))?.origin ?? PLACEHOLDER_ORIGIN,
          treeSize: Number.MAX_SAFE_INTEGER,
          root: new Uint8Array(32).fill(0xff), // non-zero calldata bytes cost the most
        }),
      );
      const gasLimit = withGasHeadroom(await this.#estimateGas(data));
      const neededWei = gasLimit * maxFeePerGas;
      this.#status = { kind: 'checked', balanceWei, neededWei, gasLimit, maxFeePerGas };
      ctx.metrics.signerBalanceWei.set({ chain: chain.name }, Number(balanceWei));
      ctx.metrics.anchorCostWei.set({ chain: chain.name }, Number(neededWei));
      const short = balanceWei < neededWei;
      const fields = { signer: signer.address, balanceWei: String(balanceWei), neededWei: String(neededWei) };
      if (short && !this.#short) {
        ctx.logger.warn(
          fields,
          'the anchoring signer cannot pay for one anchor: fund it (not ready until then)',
        );
      } else if (!short && this.#short) {
        ctx.logger.info(fields, 'the anchoring signer can pay for anchors again');
      }
      this.#short = short;
    } catch (err) {
      if (this.#status.kind !== 'checked') this.#status = { kind: 'unknown', error: describeChainError(err) };
    }
    return this.#status;
  }

  /**
   * The node's estimate. Some nodes refuse to estimate for an empty sender; an anchor sent to the signer
   * itself (no anchor contract) executes no code, so its cost is then bounded by calldata alone.
   */
  async #estimateGas(data: string): Promise<bigint> {
    const { chain, signer, client } = this.ctx;
    const to = chain.anchorAddress ?? signer.address;
    try {
      return await client.estimateGas({ from: signer.address, to, data });
    } catch (err) {
      if (!(err instanceof RpcResponseError) || chain.anchorAddress !== undefined) throw err;
      return calldataGasUpperBound(getBytes(data));
    }
  }

  /** The readiness verdict: undefined while the signer can pay (or nothing is known yet), else why not. */
  shortfall(): string | undefined {
    const s = this.#status;
    if (s.kind !== 'checked' || s.balanceWei >= s.neededWei) return undefined;
    return (
      `signer ${this.ctx.signer.address} holds ${s.balanceWei} wei, one anchor needs up to ${s.neededWei} wei ` +
      `(${s.gasLimit} gas × ${s.maxFeePerGas} wei per gas); fund it`
    );
  }
}
