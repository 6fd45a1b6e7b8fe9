import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ChainConfig } from '@fieldproof/config';
import { componentLogger } from '@fieldproof/config/observability';
import cron from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import { loadAnchorSigner, type AnchorSigner } from '../chain/anchor-signer.js';
import { classifyChainError, describeChainError } from '../chain/chain-errors.js';
import { EvmChainClient } from '../chain/evm-chain-client.js';
import { JsonRpcClient } from '../chain/json-rpc-client.js';
import { RpcHealth } from '../chain/rpc-health.js';
import { MaintenanceConfigError } from '../maintenance/maintenance.js';
import type { KeeperDeps } from '../task.js';
import type { ChainContext } from './anchor-context.js';
import { AnchorMetrics } from './anchor-metrics.js';
import { AnchorScheduler } from './anchor-scheduler.js';
import { ChainAnchorer } from './chain-anchorer.js';
import { anchoredChains, stubAnchoring, type Anchoring, type AnchoringOptions } from './stub-anchoring.js';

export type { Anchoring, AnchoringOptions } from './stub-anchoring.js';

/**
 * Builds anchoring for the configured provider. `stub`: no chain, no jobs, no tasks — checkpoints are not
 * anchored anywhere, and a warning says so. `collector`: no chain, no jobs, no tasks either — the
 * checkpoints are anchored through the fleet collectors (the collector pushers fetch the fleet proofs). `evm` / `multi`: one worker per chain, all signing with the
 * one key from KEEPER_SIGNER_KEY(_FILE) (throws SignerKeyError with one line when it is missing or its
 * file is accessible by group or others). `KEEPER_CRON_RECHECK_FINAL` schedules a re-check of every
 * final anchor on every chain (a sweep, run by each chain's own task).
 */
export function createAnchoring(deps: KeeperDeps, options: AnchoringOptions = {}): Anchoring {
  const settings = deps.config.keeper;
  const logger = componentLogger(deps.logger, 'anchor');
  const chains = anchoredChains(settings);
  if (chains.length === 0) return stubAnchoring(logger, settings);
  const signer = loadAnchorSigner(deps.secrets);
  const metrics = new AnchorMetrics(
    deps.registry,
    deps.database,
    chains.map((c) => c.name),
    deps.now,
  );
  const owner = options.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const random = options.random ?? Math.random;
  const workers = chains.map((chain) =>
    createChainAnchorer(deps, chain, { signer, metrics, owner, random, options }),
  );
  const sweep = scheduleRecheckSweeps(settings.cronRecheckFinal, workers, logger);
  logger.info(
    {
      provider: settings.provider,
      chains: chains.map((c) => `${c.name}/${c.chainId}`),
      signer: signer.address,
    },
    'anchoring enabled',
  );
  return {
    tasks: [
      new AnchorScheduler(deps.database, chains, settings, logger, deps.now),
      ...workers.map((w) => w.task),
    ],
    readiness() {
      const parts: string[] = [];
      let ok = true;
      for (const { task } of workers) {
        const { chain, health } = task.ctx;
        const down = health.downForMs();
        const loss = task.recheck.uncoveredLoss;
        if (health.halted !== undefined) {
          ok = false;
          parts.push(`${chain.name}: halted (${health.halted})`);
        } else if (loss !== undefined) {
          ok = false;
          parts.push(
            `${chain.name}: final anchor lost (tree size ${loss.treeSize}, transaction ${loss.txHash ?? '?'} no longer in the chain); not ready until a new anchor on this chain is final`,
          );
        } else if (down > settings.rpcDownReadyMs) {
          ok = false;
          parts.push(
            `${chain.name}: RPC failing for ${Math.round(down / 1000)} s (${health.lastError ?? 'unknown'})`,
          );
        } else if (task.funds.shortfall() !== undefined) {
          ok = false;
          parts.push(`${chain.name}: ${task.funds.shortfall()}`);
        } else if (down > 0) {
          parts.push(`${chain.name}: RPC failing for ${Math.round(down / 1000)} s`);
        } else {
          const block = task.finalized.latest;
          parts.push(
            block === undefined
              ? `${chain.name}: ok`
              : `${chain.name}: ok (finalized block ${block.number} ${block.hash} at ${new Date(block.timestamp).toISOString()})`,
          );
        }
      }
      return { ok, detail: `anchoring: ${parts.join('; ')}` };
    },
    async close() {
      await sweep?.destroy();
      for (const w of workers) w.rpc.abort();
    },
  };
}

/**
 * The slow re-check of every final anchor (`KEEPER_CRON_RECHECK_FINAL`): the schedule only asks each
 * chain's task for a sweep; the task does it page by page between its other work.
 */
function scheduleRecheckSweeps(
  expression: string | undefined,
  workers: readonly { task: ChainAnchorer }[],
  logger: KeeperDeps['logger'],
): ScheduledTask | undefined {
  if (expression === undefined) return undefined;
  if (!cron.validate(expression)) {
    throw new MaintenanceConfigError(
      `KEEPER_CRON_RECHECK_FINAL: "${expression}" is not a valid cron expression (or "off")`,
    );
  }
  const task = cron.schedule(
    expression,
    () => {
      logger.info('re-checking every final anchor against its chain (KEEPER_CRON_RECHECK_FINAL)');
      for (const { task: worker } of workers) worker.recheck.requestSweep();
    },
    {
      name: 'recheck-final',
      logger: {
        info: (message: string) => logger.debug(message),
        warn: (message: string) => logger.warn(message),
        error: (message: string | Error, err?: Error) =>
          logger.error({ err: err ?? message }, 'node-cron error'),
        debug: (message: string | Error) => logger.debug(String(message)),
      },
    },
  );
  return task;
}

function createChainAnchorer(
  deps: KeeperDeps,
  chain: ChainConfig,
  shared: {
    signer: AnchorSigner;
    metrics: AnchorMetrics;
    owner: string;
    random: () => number;
    options: AnchoringOptions;
  },
): { task: ChainAnchorer; rpc: JsonRpcClient } {
  const settings = deps.config.keeper;
  const logger = componentLogger(deps.logger, 'anchor', { chain: chain.name });
  const health = new RpcHealth(
    deps.now,
    { baseMs: settings.backoffBaseMs, maxMs: settings.backoffMaxMs },
    shared.random,
  );
  const rpc = new JsonRpcClient({
    url: chain.rpcUrl,
    timeoutMs: settings.rpcTimeoutMs,
    onOutcome(reachable, err) {
      if (err !== undefined) shared.metrics.rpcError(chain.name, classifyChainError(err));
      if (reachable) {
        if (health.failures > 0) logger.info({ downMs: health.downForMs() }, 'chain RPC answers again');
        health.recordSuccess();
        return;
      }
      const first = health.failures === 0;
      const delay = health.recordFailure(describeChainError(err));
      const fields = { error: describeChainError(err), failures: health.failures, retryInMs: delay };
      if (first) logger.warn(fields, 'chain RPC unreachable; backing off');
      else logger.debug(fields, 'chain RPC still unreachable');
    },
  });
  const warned = new Set<string>();
  const ctx: ChainContext = {
    chain,
    client: new EvmChainClient(rpc),
    health,
    signer: shared.signer,
    database: deps.database,
    settings,
    logger,
    metrics: shared.metrics,
    now: deps.now,
    random: shared.random,
    owner: shared.owner,
    warnOnce(key, fields, message) {
      if (warned.has(key)) return;
      if (warned.size > 10_000) warned.clear();
      warned.add(key);
      logger.warn(fields, message);
    },
    async atPoint(point) {
      await shared.options.atPoint?.(point, chain.name);
    },
  };
  return { task: new ChainAnchorer(ctx), rpc };
}
