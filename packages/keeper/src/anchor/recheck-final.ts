import { claimFinalAnchorJob, findUncoveredLostAnchor, listFinalAnchors } from '@fieldproof/db';
import type { AnchorJobRow, FinalAnchor, UncoveredLostAnchor } from '@fieldproof/db';
import type { ChainContext } from './anchor-context.js';

/** Final anchors looked at per round of a sweep (one `eth_getBlockByNumber` each). */
const SWEEP_PAGE = 50;

/**
 * Re-checks the final anchors of one chain: a chain reset or a reorg deeper than the chain's finality
 * removes anchors the keeper already reported final.
 *
 * - The newest final anchor of the chain, every `confirmPollMs`.
 * - Every final anchor, largest checkpoint first, a page per round, when a sweep is requested (the
 *   `KEEPER_CRON_RECHECK_FINAL` schedule) and whenever one was found gone (a reset or a deep reorg
 *   rarely takes just one).
 *
 * An anchor holds while the block at its recorded height still has its recorded hash: one
 * `eth_getBlockByNumber`, and the block hash commits to the block's transactions. (A receipt lookup
 * would not do: nodes that prune their transaction index answer null for old transactions.) A node
 * that has not reached that height cannot tell — it lags, or a reset chain is still shorter — and the
 * anchor stays final, with one warning. Only when another block sits at that height is the job claimed
 * and stepped through `followAnchor`, like any job whose block went away: it records the transaction
 * where the chain mined it again, or marks the anchor `lost` and anchors the checkpoint again.
 */
export class FinalAnchorRecheck {
  #lastNewestAt = Number.NEGATIVE_INFINITY;
  /** The running sweep: largest tree size still to look at is below `before` (undefined: all). */
  #sweep: { before: number | undefined } | undefined;
  #uncovered: UncoveredLostAnchor | undefined;

  constructor(
    private readonly ctx: ChainContext,
    /** Takes one step of a claimed job (the worker's `step`). */
    private readonly step: (job: AnchorJobRow) => Promise<void>,
  ) {}

  /** Re-check every final anchor of the chain, starting with the next round. */
  requestSweep(): void {
    this.#sweep ??= { before: undefined };
  }

  get sweeping(): boolean {
    return this.#sweep !== undefined;
  }

  /**
   * The largest lost checkpoint of this chain that no final anchor covers yet, as of the last round
   * (read from the database, so it is right across restarts and keepers); readiness fails meanwhile.
   */
  get uncoveredLoss(): UncoveredLostAnchor | undefined {
    return this.#uncovered;
  }

  /**
   * One bounded round. True when a sweep page was done (run again at once); false otherwise, also
   * when it is not yet time to look at the newest anchor again. RPC errors propagate.
   */
  async runOnce(): Promise<boolean> {
    const { ctx } = this;
    if (this.#sweep !== undefined) {
      const page = await listFinalAnchors(ctx.database.db, ctx.chain.name, {
        beforeTreeSize: this.#sweep.before,
        limit: SWEEP_PAGE,
      });
      for (const anchor of page) await this.check(anchor);
      const last = page.at(-1);
      if (page.length < SWEEP_PAGE || last === undefined) {
        this.#sweep = undefined;
        ctx.logger.info('re-checked every final anchor against the chain');
      } else if (this.#sweep !== undefined) {
        this.#sweep.before = last.treeSize;
      }
      await this.#refresh();
      return true;
    }
    const now = ctx.now();
    if (now - this.#lastNewestAt < ctx.settings.confirmPollMs) return false;
    this.#lastNewestAt = now;
    const [newest] = await listFinalAnchors(ctx.database.db, ctx.chain.name, { limit: 1 });
    if (newest !== undefined) await this.check(newest);
    await this.#refresh();
    return false;
  }

  /**
   * Re-checks one final anchor now: nothing happens while its recorded block is still at its height;
   * otherwise its job is claimed and stepped (and a sweep requested). RPC errors propagate.
   */
  async check(anchor: FinalAnchor): Promise<void> {
    const { ctx } = this;
    const block = await ctx.client.getBlock(anchor.blockNumber);
    if (block?.hash === anchor.blockHash) return;
    if (block === null) {
      ctx.warnOnce(
        `recheck-ahead:${anchor.jobId}`,
        { jobId: anchor.jobId, treeSize: anchor.treeSize, blockNumber: anchor.blockNumber },
        'the node has not reached the block of a final anchor (it lags, or the chain was reset and is still shorter); re-checked later',
      );
      return;
    }
    ctx.logger.warn(
      {
        jobId: anchor.jobId,
        treeSize: anchor.treeSize,
        txHash: anchor.txHash,
        blockNumber: anchor.blockNumber,
        recorded: anchor.blockHash,
        canonical: block.hash,
      },
      'the block of a final anchor is no longer canonical; following the anchor again',
    );
    // Whatever took this block may have taken older ones: look at every final anchor.
    this.requestSweep();
    const job = await ctx.database.db.transaction().execute((trx) =>
      claimFinalAnchorJob(trx, {
        jobId: anchor.jobId,
        owner: ctx.owner,
        now: ctx.now(),
        leaseMs: ctx.settings.leaseMs,
      }),
    );
    if (job !== undefined) await this.step(job);
  }

  async #refresh(): Promise<void> {
    this.#uncovered = await findUncoveredLostAnchor(this.ctx.database.db, this.ctx.chain.name);
  }
}
