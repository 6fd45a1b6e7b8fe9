import { saveChainFinalizedBlock } from '@fieldproof/db';
import type { ChainFinalizedBlock } from '@fieldproof/db';
import type { ChainBlock } from '../chain/evm-chain-client.js';
import type { ChainContext } from './anchor-context.js';

/**
 * The newest finalized block of one chain, by the chain's finality rule — the node's `finalized` block
 * ('tag'; 'auto' where the node answers the tag), else the block `confirmations` deep ('confirmations';
 * 'auto' without the tag) — looked at every `confirmPollMs` and written to `chain_finalized_blocks` when
 * it changed. It is what the keeper has seen, not a high-water mark: after a chain reset the older block
 * is recorded, because the newer one is no longer canonical. It will be the "written after" bound of new
 * records; readiness shows it.
 */
export class FinalizedBlockWatch {
  #checkedAt = Number.NEGATIVE_INFINITY;
  #latest: ChainFinalizedBlock | undefined;

  constructor(private readonly ctx: ChainContext) {}

  /** The block last recorded by this keeper (undefined before the first look). */
  get latest(): ChainFinalizedBlock | undefined {
    return this.#latest;
  }

  /** Looks when `confirmPollMs` has passed since the last look. Never throws. */
  async checkWhenDue(): Promise<void> {
    const { ctx } = this;
    const now = ctx.now();
    if (now - this.#checkedAt < ctx.settings.confirmPollMs) return;
    this.#checkedAt = now;
    let block: ChainBlock | null;
    try {
      block = await this.#finalizedBlock();
    } catch {
      return; // transport errors are recorded by the client's health tracking; next poll tries again
    }
    if (block === null) return;
    if (this.#latest?.hash === block.hash) return;
    const seen: ChainFinalizedBlock = {
      chain: ctx.chain.name,
      chainId: ctx.chain.chainId,
      number: block.number,
      hash: block.hash,
      timestamp: block.timestamp * 1000,
      seenAt: now,
    };
    try {
      await saveChainFinalizedBlock(ctx.database.db, seen);
      this.#latest = seen;
    } catch (err) {
      ctx.logger.warn({ err }, 'recording the newest finalized block failed; trying again next poll');
    }
  }

  async #finalizedBlock(): Promise<ChainBlock | null> {
    const { client, chain } = this.ctx;
    if (chain.finality !== 'confirmations') {
      const number = await client.finalizedBlockNumber();
      if (number !== undefined) return client.getBlock(number);
      if (chain.finality === 'tag') return null;
    }
    const depth = Math.max(1, chain.confirmations) - 1;
    const head = await client.blockNumber();
    return head < depth ? null : client.getBlock(head - depth);
  }
}
