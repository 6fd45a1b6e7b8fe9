import { ANCHOR_JOB_STATES, countAnchorJobsByState, newestFinalAnchorTimes } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChainErrorKind } from '../chain/chain-errors.js';

/**
 * Anchoring metrics on the keeper's registry. The per-state gauge and the final-anchor age are read
 * from the database at scrape time, so they are right across restarts and with several keepers.
 */
export class AnchorMetrics {
  readonly rpcErrors: Counter<'chain' | 'kind'>;
  readonly gasUsed: Counter<'chain'>;
  readonly feesPaidWei: Counter<'chain'>;
  readonly reorgs: Counter<'chain'>;
  readonly feeBumps: Counter<'chain'>;
  readonly signerBalanceWei: Gauge<'chain'>;
  readonly anchorCostWei: Gauge<'chain'>;
  readonly lost: Counter<'chain'>;
  readonly proofFailures: Counter<'chain'>;

  constructor(registry: Registry, database: Database, chains: readonly string[], now: () => number) {
    const registers = [registry];
    new Gauge({
      name: 'fieldproof_anchor_jobs',
      help: 'Anchor outbox jobs per chain and state',
      labelNames: ['chain', 'state'],
      registers,
      async collect() {
        const rows = await countAnchorJobsByState(database.db).catch(() => undefined);
        if (rows === undefined) return;
        this.reset();
        for (const chain of chains) for (const state of ANCHOR_JOB_STATES) this.set({ chain, state }, 0);
        for (const r of rows) this.set({ chain: r.chain, state: r.state }, r.count);
      },
    });
    new Gauge({
      name: 'fieldproof_anchor_last_final_age_seconds',
      help: 'Seconds since the block of the newest final anchor, per chain (absent before the first)',
      labelNames: ['chain'],
      registers,
      async collect() {
        const rows = await newestFinalAnchorTimes(database.db).catch(() => undefined);
        if (rows === undefined) return;
        this.reset();
        for (const r of rows) this.set({ chain: r.chain }, Math.max(0, (now() - r.blockTimestamp) / 1000));
      },
    });
    this.rpcErrors = new Counter({
      name: 'fieldproof_chain_rpc_errors_total',
      help: 'Failed JSON-RPC requests per chain, by error kind (transport = no answer)',
      labelNames: ['chain', 'kind'],
      registers,
    });
    this.gasUsed = new Counter({
      name: 'fieldproof_anchor_gas_used_total',
      help: 'Gas used by anchor transactions that reached final (gas units)',
      labelNames: ['chain'],
      registers,
    });
    this.feesPaidWei = new Counter({
      name: 'fieldproof_anchor_fees_paid_wei_total',
      help: 'Fees paid by anchor transactions that reached final (wei; gas used × effective gas price)',
      labelNames: ['chain'],
      registers,
    });
    this.reorgs = new Counter({
      name: 'fieldproof_anchor_reorgs_total',
      help: 'Anchor transactions found no longer in the canonical chain',
      labelNames: ['chain'],
      registers,
    });
    this.feeBumps = new Counter({
      name: 'fieldproof_anchor_fee_bumps_total',
      help: 'Stuck anchor transactions replaced with higher fees (same nonce)',
      labelNames: ['chain'],
      registers,
    });
    // Set by each chain's funds check (every confirmPollMs), not at scrape time: a scrape must not wait
    // for a chain's RPC. Absent until the first check.
    this.signerBalanceWei = new Gauge({
      name: 'fieldproof_anchor_signer_balance_wei',
      help: "The anchoring signer's balance per chain (wei), as last checked",
      labelNames: ['chain'],
      registers,
    });
    this.anchorCostWei = new Gauge({
      name: 'fieldproof_anchor_estimated_cost_wei',
      help: 'What one anchor may cost per chain (wei; gas limit × max fee per gas), as last checked',
      labelNames: ['chain'],
      registers,
    });
    this.lost = new Counter({
      name: 'fieldproof_anchor_lost_total',
      help: 'Final anchors the chain no longer has (chain reset, reorg deeper than finality); each is re-anchored',
      labelNames: ['chain'],
      registers,
    });
    this.proofFailures = new Counter({
      name: 'fieldproof_anchor_proof_failures_total',
      help: 'Anchor proofs of final anchors that could not be built (node error, data that does not hash); each is retried on later polls',
      labelNames: ['chain'],
      registers,
    });
  }

  rpcError(chain: string, kind: ChainErrorKind): void {
    this.rpcErrors.inc({ chain, kind });
  }
}
