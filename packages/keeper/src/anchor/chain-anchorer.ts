import {
  CURRENT_ANCHOR_TX_STATES,
  claimAnchorJob,
  hasDueAnchorJob,
  listAnchorTxsOfJob,
} from '@fieldproof/db';
import type { AnchorJobRow, AnchorTxRow } from '@fieldproof/db';
import { classifyChainError, describeChainError } from '../chain/chain-errors.js';
import { RpcResponseError, RpcTransportError } from '../chain/json-rpc-client.js';
import type { KeeperTask } from '../task.js';
import type { ChainContext, JobLease } from './anchor-context.js';
import { AnchorProofBackfill } from './anchor-proofs.js';
import { FinalizedBlockWatch } from './finalized-block.js';
import { followAnchor } from './follow-anchor.js';
import { failJob } from './job-failure.js';
import { LeaseLostError, releaseJob } from './job-lease.js';
import { FinalAnchorRecheck } from './recheck-final.js';
import { sendNewAnchor } from './send-anchor.js';
import { SignerFunds } from './signer-funds.js';

/**
 * The anchoring worker of one chain (a KeeperTask named `anchor:<chain>`). Each `runOnce()`:
 *
 * 1. reports no work, without touching the RPC or taking a lock, while the chain is halted (chain id
 *    mismatch) or backing off after a transport failure;
 * 2. re-checks final anchors (`recheck-final.ts`): the newest every `confirmPollMs`, all of them page by
 *    page while a sweep runs — after the node's chain id was checked, so a wrong node never "loses" them;
 *    then, every `confirmPollMs`, builds the anchor proofs final anchors are missing (`anchor-proofs.ts`);
 * 3. when no job is due (a plain read), at most every `confirmPollMs` probes the node (`eth_chainId`) so
 *    readiness stays truthful;
 * 4. checks once (and again after every RPC outage) that the node's `eth_chainId` is the configured one;
 *    and, busy or idle, at most every `confirmPollMs`, that the signer can pay for one anchor (`funds`)
 *    and which block is the newest finalized one (`finalized`);
 * 5. claims the most overdue job (lease + fencing token) in a short write transaction;
 * 6. takes one step: sign and broadcast a new transaction, or follow the current one.
 */
export class ChainAnchorer implements KeeperTask {
  readonly name: string;
  readonly idleMs: number;
  /** Whether the signer can pay for one anchor on this chain (readiness and a metric). */
  readonly funds: SignerFunds;
  /** The re-check of final anchors; `requestSweep()` re-checks all of them. */
  readonly recheck: FinalAnchorRecheck;
  /** Builds the proofs final anchors are missing (a node error at finality), every `confirmPollMs`. */
  readonly proofs: AnchorProofBackfill;
  /** The newest finalized block of the chain, recorded every `confirmPollMs`. */
  readonly finalized: FinalizedBlockWatch;
  /** `health.outages` when the chain id was last checked (-1: never). */
  #chainIdCheckedAt = -1;
  #lastProbeAt = Number.NEGATIVE_INFINITY;

  constructor(readonly ctx: ChainContext) {
    this.name = `anchor:${ctx.chain.name}`;
    this.idleMs = Math.min(ctx.settings.pollMs, ctx.settings.confirmPollMs);
    this.funds = new SignerFunds(ctx);
    this.recheck = new FinalAnchorRecheck(ctx, (job) => this.step(job));
    this.proofs = new AnchorProofBackfill(ctx, (anchor) => this.recheck.check(anchor));
    this.finalized = new FinalizedBlockWatch(ctx);
  }

  async runOnce(): Promise<boolean> {
    const { ctx } = this;
    if (ctx.health.halted !== undefined || ctx.health.backingOff()) return false;
    if (await this.#recheckFinal()) return true;
    if (ctx.health.halted !== undefined) return false; // its chain id check found the wrong node
    await this.#backfillProofs();
    if (!(await hasDueAnchorJob(ctx.database.db, ctx.chain.name, ctx.now()))) {
      await this.#probeWhenIdle();
      await this.#checkWhenDue();
      return false;
    }
    if (!(await this.#checkChainId(false))) return false;
    await this.#checkWhenDue();
    const job = await this.claim();
    if (job === undefined) return false;
    await this.step(job);
    return true;
  }

  /** Claims the most overdue job of this chain, if any (exposed for tests). */
  async claim(): Promise<AnchorJobRow | undefined> {
    const { ctx } = this;
    return ctx.database.db.transaction().execute((trx) =>
      claimAnchorJob(trx, {
        chain: ctx.chain.name,
        owner: ctx.owner,
        now: ctx.now(),
        leaseMs: ctx.settings.leaseMs,
        skipLocked: ctx.database.capabilities.skipLocked,
      }),
    );
  }

  /** One step of a claimed job. Never throws for chain errors: they are recorded on the job. */
  async step(job: AnchorJobRow): Promise<void> {
    const { ctx } = this;
    const lease: JobLease = { jobId: job.id, token: job.lease_token };
    let current: AnchorTxRow | undefined;
    try {
      const txs = await listAnchorTxsOfJob(ctx.database.db, job.id);
      current = txs.find((t) => CURRENT_ANCHOR_TX_STATES.includes(t.state));
      if (current === undefined) await sendNewAnchor(ctx, job, lease);
      else await followAnchor(ctx, job, lease, current, txs);
    } catch (err) {
      await this.#onStepError(job, lease, current !== undefined, err);
    }
  }

  async #onStepError(job: AnchorJobRow, lease: JobLease, hasCurrentTx: boolean, err: unknown): Promise<void> {
    const { ctx } = this;
    if (err instanceof LeaseLostError) {
      ctx.logger.warn(
        { jobId: job.id, token: lease.token },
        'lease lost to another worker; stopping this step',
      );
      return;
    }
    const message = describeChainError(err);
    if (err instanceof RpcTransportError) {
      // No answer: nothing is known about the outcome. The chain backs off as a whole; the job keeps
      // its state and is reconciled by hash when the node is back. No attempt is counted.
      try {
        await releaseJob(ctx, lease, {
          last_error: `RPC unreachable: ${message}`,
          next_attempt_at: Math.max(ctx.health.retryAt, ctx.now()),
        });
      } catch (releaseErr) {
        if (!(releaseErr instanceof LeaseLostError)) throw releaseErr;
      }
      return;
    }
    const kind = err instanceof RpcResponseError ? classifyChainError(err) : 'internal';
    if (kind === 'internal')
      ctx.logger.error({ jobId: job.id, err }, 'unexpected error in an anchoring step');
    try {
      await failJob(ctx, job, lease, { kind, message, hasCurrentTx });
    } catch (failErr) {
      if (!(failErr instanceof LeaseLostError)) throw failErr;
    }
  }

  async #recheckFinal(): Promise<boolean> {
    try {
      if (!(await this.#checkChainId(false))) return false;
      return await this.recheck.runOnce();
    } catch (err) {
      // No answer: recorded by the client's health tracking; the next poll tries again.
      if (!(err instanceof RpcTransportError)) {
        this.ctx.logger.warn({ err }, 're-checking final anchors failed; trying again next poll');
      }
      return false;
    }
  }

  /**
   * With nothing to do, asks the node for its chain id at most every `confirmPollMs`: a wrong URL, a
   * wrong chain or a dead node shows in readiness before the first anchor is due, not after.
   */
  async #probeWhenIdle(): Promise<void> {
    const now = this.ctx.now();
    if (now - this.#lastProbeAt < this.ctx.settings.confirmPollMs) return;
    this.#lastProbeAt = now;
    await this.#checkChainId(true);
  }

  /**
   * The signer's funds and the newest finalized block, every `confirmPollMs` — only on a node that
   * answers and is the configured chain: a balance or a block from elsewhere would mislead.
   */
  async #checkWhenDue(): Promise<void> {
    const { health } = this.ctx;
    if (health.halted !== undefined || health.backingOff()) return;
    await this.funds.checkWhenDue();
    if (health.backingOff()) return;
    await this.finalized.checkWhenDue();
  }

  /** Proofs missing for final anchors; after the chain id check, like the re-check. */
  async #backfillProofs(): Promise<void> {
    const { health } = this.ctx;
    if (health.backingOff() || this.#chainIdCheckedAt !== health.outages) return;
    try {
      await this.proofs.runOnce();
    } catch (err) {
      this.ctx.logger.warn({ err }, 'building missing anchor proofs failed; trying again next poll');
    }
  }

  async #checkChainId(force: boolean): Promise<boolean> {
    const { ctx } = this;
    // Checked once, and again after every outage: the URL may now reach a different node.
    if (!force && this.#chainIdCheckedAt === ctx.health.outages) return true;
    let id: number;
    try {
      id = await ctx.client.chainId();
    } catch {
      return false; // recorded by the client's health tracking
    }
    if (id !== ctx.chain.chainId) {
      const reason = `chain "${ctx.chain.name}": the node reports chainId ${id}, KEEPER_CHAINS says ${ctx.chain.chainId}; not anchoring on it (fix the configuration and restart)`;
      ctx.health.halt(reason);
      ctx.logger.error(reason);
      return false;
    }
    this.#chainIdCheckedAt = ctx.health.outages;
    return true;
  }
}
