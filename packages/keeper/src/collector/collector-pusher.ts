import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { CollectorTarget } from '@fieldproof/config';
import { componentLogger } from '@fieldproof/config/observability';
import {
  getCollectorAnchorAcks,
  getCollectorPushState,
  getCheckpoint,
  getLatestCheckpoint,
  getLeafByIndex,
  listPushableAnchors,
  readLeavesWithEvidence,
  recordCollectorAck,
  recordCollectorAnchorAcks,
  recordCollectorFailure,
  checkpointSizeIn,
  getFleetProofCursor,
  recordFleetProofFailure,
  storeCollectorCosignature,
} from '@fieldproof/db';
import type { LeafWithEvidence } from '@fieldproof/db';
import { verifyCosignature } from '@fieldproof/note';
import { consistencyProofFor } from '@fieldproof/proofs';
import { evidenceRecordOf } from '@fieldproof/receipt';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { backoffDelay } from '../backoff.js';
import type { KeeperDeps, KeeperTask } from '../task.js';
import { CollectorPushError, createCollectorClient } from './collector-client.js';
import { createFleetProofFetcher } from './fleet-proof-fetcher.js';
import type { FleetProofFetcher } from './fleet-proof-fetcher.js';

export { CollectorPushError };

const gzip = promisify(gzipCallback);

/** Most leaves in one push unless configured otherwise (the collector's default cap is 10 000). */
export const DEFAULT_PUSH_MAX_LEAVES = 1000;
/** Most anchors in one push (the collector takes up to 64). */
export const DEFAULT_PUSH_MAX_ANCHORS = 32;

export interface CollectorPusherOptions {
  /** Most leaves per push (memory stays bounded however far behind the collector is). */
  readonly maxLeaves?: number;
  /** Random source for backoff jitter (tests). */
  readonly random?: () => number;
  /** HTTP client (default: global fetch). */
  readonly fetch?: typeof fetch;
  /** Most anchors per push. */
  readonly maxAnchors?: number;
  /** How often a caught-up unit looks for new final (or lost) anchors to push; default KEEPER_CONFIRM_POLL_MS. */
  readonly anchorScanMs?: number;
  /** How often a caught-up unit asks for new fleet proofs; default KEEPER_CONFIRM_POLL_MS. */
  readonly fleetPollMs?: number;
  /** Most fleet proofs per page. */
  readonly fleetPageLimit?: number;
}

export interface CollectorPusher extends KeeperTask {
  readonly target: CollectorTarget;
  /** Fetching fleet proofs back (a collector with a `fleetKey` only). */
  readonly fleet: FleetProofFetcher | undefined;
}

interface HeldHead {
  readonly treeSize: number;
  readonly rootHash: string | null;
  readonly cosignature: string | null;
  readonly cosignedAt: number | null;
}

/**
 * The push outbox for one collector (issue 15, "Device side"). Each round:
 *
 * ```text
 *   stopped, backing off, or acked ≥ newest checkpoint? ── idle (a plain read, no network)
 *   GET /v1/devices/:origin                  → held size H (the collector's word is the state)
 *   T = largest checkpoint in (H, H+maxLeaves], else the smallest above H
 *   PUT content of raw-bytes leaves in [H, T) (gzip, by digest; idempotent)
 *   POST push {checkpoint T, consistency H→T, leaves H…T−1} (gzip)
 *   verify the cosignature under witnessKey → store it, record ack T
 * ```
 *
 * A crash anywhere only repeats work: the next round starts from what the collector says it holds, and
 * re-sent content and pushes are idempotent there. Transient failures (network, 5xx, 429, a gap after a
 * concurrent push) back off as the anchoring outbox does; a 409 (equivocation) or another 4xx stops
 * pushing to this collector until the keeper restarts, with the error logged and shown in
 * `GET /v1/collectors`. A cosignature that does not verify under `witnessKey` is refused: not stored,
 * reported, and pushing stops (the configuration or the collector is wrong).
 */
export function createCollectorPusher(
  deps: KeeperDeps,
  target: CollectorTarget,
  options: CollectorPusherOptions = {},
): CollectorPusher {
  const { database, config, logger, now } = deps;
  const db = database.db;
  const log = componentLogger(logger, 'push', { collector: target.name });
  const maxLeaves = options.maxLeaves ?? DEFAULT_PUSH_MAX_LEAVES;
  const random = options.random ?? Math.random;
  const gauges = collectorGauges(deps.registry);
  let stopped = false;
  const maxAnchors = options.maxAnchors ?? DEFAULT_PUSH_MAX_ANCHORS;
  const anchorScanMs = options.anchorScanMs ?? config.keeper.confirmPollMs;
  let anchorCursor = '';
  let nextAnchorScanAt = 0;
  /** False once the collector refused anchors (an older collector, or a refusal no retry fixes). */
  let anchorsEnabled = true;

  const client = createCollectorClient(target, options.fetch ?? fetch);
  const { deviceUrl, request } = client;
  const fleet =
    target.fleetKey === undefined
      ? undefined
      : createFleetProofFetcher(deps, { ...target, fleetKey: target.fleetKey }, client, {
          pollMs: options.fleetPollMs ?? config.keeper.confirmPollMs,
          downReadyMs: config.keeper.rpcDownReadyMs,
          limit: options.fleetPageLimit,
          log: componentLogger(logger, 'fleet', { collector: target.name }),
        });
  let fleetStopped = false;

  /**
   * One fleet-proof step when one is due; a failure backs off as a push does, a refusal stops fetching
   * (not pushing) until the keeper restarts.
   */
  async function fleetOnce(): Promise<boolean> {
    if (fleet === undefined || fleetStopped || !(await fleet.due())) return false;
    try {
      return await fleet.step();
    } catch (err) {
      const attempts = ((await getFleetProofCursor(db, target.name))?.attempts ?? 0) + 1;
      const { permanent } = await recordFailure(err, attempts, recordFleetProofFailure, {
        stopped: 'fleet proofs refused: fetching them from this collector stopped until the keeper restarts',
        retrying: 'fetching fleet proofs failed; backing off',
      });
      if (permanent) fleetStopped = true;
      return false;
    }
  }

  /**
   * A failed round, recorded with `record` (attempts, error, when to try next: no retry for a refusal no
   * retry fixes, else the anchoring outbox's backoff) and logged; says whether it was such a refusal.
   */
  async function recordFailure(
    err: unknown,
    attempts: number,
    record: (...args: Parameters<typeof recordCollectorFailure>) => Promise<unknown>,
    messages: { readonly stopped: string; readonly retrying: string },
  ): Promise<{ readonly permanent: boolean }> {
    const permanent = err instanceof CollectorPushError && err.permanent;
    const delay = permanent
      ? 0
      : backoffDelay(attempts, config.keeper.backoffBaseMs, config.keeper.backoffMaxMs, random);
    const message = (err as Error).message;
    await record(
      db,
      target.name,
      { error: message, nextAttemptAt: now() + delay, stopped: permanent },
      now(),
    );
    if (permanent) log.error({ err }, messages.stopped);
    else log.warn({ attempts, retryInMs: delay, error: message }, messages.retrying);
    return { permanent };
  }

  async function putContent(origin: string, leaf: LeafWithEvidence): Promise<boolean> {
    const file = path.join(
      config.dataDir,
      'content',
      leaf.digest.slice(0, 2),
      leaf.digest.slice(2, 4),
      leaf.digest,
    );
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        log.warn(
          { evidenceId: leaf.id, digest: leaf.digest },
          'content file missing: pushed without content',
        );
        return false;
      }
      throw err;
    }
    await request('PUT', deviceUrl(origin, `/content/${leaf.digest}`), {
      bytes: await gzip(bytes),
      type: 'application/octet-stream',
    });
    return true;
  }

  /** Verifies `cosignature` over the checkpoint of `treeSize` and stores it; throws a permanent error if it does not verify. */
  async function acceptCosignature(treeSize: number, signedNote: string, cosignature: string): Promise<void> {
    let cosignedAt: number;
    try {
      cosignedAt = verifyCosignature(signedNote + cosignature, target.witnessKey).timestamp;
    } catch (err) {
      throw new CollectorPushError(
        `cosignature of tree size ${treeSize} refused: it does not verify under witnessKey (${(err as Error).message})`,
        true,
      );
    }
    await storeCollectorCosignature(db, {
      collector: target.name,
      treeSize,
      witnessKey: target.witnessKey,
      cosignature,
      cosignedAt,
      storedAt: now(),
    });
  }

  async function updateLag(latestSize: number, acked: number): Promise<void> {
    gauges.lagLeaves.set({ collector: target.name }, Math.max(0, latestSize - acked));
    gauges.lagSeconds.set({ collector: target.name }, (await lagMs(acked, latestSize)) / 1000);
  }

  async function lagMs(acked: number, latestSize: number): Promise<number> {
    if (acked >= latestSize) return 0;
    const leaf = await getLeafByIndex(db, acked);
    return leaf === undefined ? 0 : Math.max(0, now() - Number(leaf.sequenced_at));
  }

  /**
   * One page of the anchor scan (issue 15, "anchors"): the unit's final anchors with their stored proofs,
   * and those since lost, of checkpoints the collector acknowledged, in transaction id order; those the
   * collector has not taken (or that changed since: lost, another block) go in one push of the
   * acknowledged checkpoint with no leaves. What it took is recorded on the unit (collector_anchor_acks),
   * so a keeper restart sends none again. A pass ends at the last page; the next starts after
   * `anchorScanMs`. Returns whether another page follows.
   */
  async function anchorStep(acked: number): Promise<boolean> {
    const held = await getCheckpoint(db, acked);
    if (held === undefined) return false;
    const page = await listPushableAnchors(db, {
      afterTxId: anchorCursor,
      maxTreeSize: acked,
      limit: maxAnchors,
    });
    const key = (a: (typeof page)[number]) => `${a.state}:${a.proof.blockHash}`;
    const taken = await getCollectorAnchorAcks(
      db,
      target.name,
      page.map((a) => a.txHash),
    );
    const fresh = page.filter((a) => taken.get(a.txHash) !== key(a));
    if (fresh.length > 0) {
      const anchors = [];
      for (const a of fresh) {
        const anchored = await getCheckpoint(db, a.treeSize);
        if (anchored === undefined) continue;
        anchors.push({
          chain: a.chain,
          treeSize: a.treeSize,
          checkpoint: anchored.signed_note,
          txHash: a.txHash,
          state: a.state,
          proof: a.proof,
        });
      }
      const body = { checkpoint: held.signed_note, leaves: [], anchors };
      try {
        const answer = (await request('POST', deviceUrl(held.origin, '/push'), {
          bytes: await gzip(Buffer.from(JSON.stringify(body))),
          type: 'application/json',
        })) as { anchorsStored?: number };
        await recordCollectorAnchorAcks(
          db,
          target.name,
          fresh.map((a) => ({ txHash: a.txHash, ackedKey: key(a) })),
          now(),
        );
        log.info(
          { anchors: anchors.length, stored: answer.anchorsStored, treeSize: acked },
          'pushed anchors to collector',
        );
      } catch (err) {
        if (!(err instanceof CollectorPushError)) throw err;
        if (err.permanent) {
          // An older collector refuses the unknown `anchors` field (400 FP_VALIDATION); a refused proof
          // (FP_BAD_ANCHOR_PROOF, FP_ANCHOR_MISMATCH) will be refused again. Leaves keep flowing.
          anchorsEnabled = false;
          log.error(
            { err },
            'collector refused anchors: anchors are not pushed to it until the keeper restarts',
          );
        } else {
          nextAnchorScanAt =
            now() + backoffDelay(1, config.keeper.backoffBaseMs, config.keeper.backoffMaxMs, random);
          log.warn({ error: err.message }, 'pushing anchors to collector failed; retrying later');
        }
        anchorCursor = '';
        return false;
      }
    }
    if (page.length < maxAnchors) {
      anchorCursor = '';
      nextAnchorScanAt = now() + anchorScanMs;
      return false;
    }
    anchorCursor = page.at(-1)!.txId;
    return true;
  }

  async function round(): Promise<boolean> {
    const latest = await getLatestCheckpoint(db);
    if (latest === undefined) return false;
    const latestSize = Number(latest.tree_size);
    const origin = latest.origin;
    const head = (await request('GET', deviceUrl(origin))) as HeldHead;
    const held = Number(head.treeSize);
    if (!Number.isSafeInteger(held) || held < 0)
      throw new CollectorPushError('the collector answered no tree size', false);
    if (held >= latestSize) {
      // Everything is mirrored (a push acknowledged before a crash lost its ack here): adopt it.
      const mine = await getCheckpoint(db, held);
      if (mine === undefined || mine.root_hash !== head.rootHash) {
        throw new CollectorPushError(
          `the collector holds tree size ${held} with root ${head.rootHash ?? 'none'}, which this unit did not sign`,
          true,
        );
      }
      if (head.cosignature !== null) await acceptCosignature(held, mine.signed_note, head.cosignature);
      await recordCollectorAck(db, target.name, held, now());
      await updateLag(latestSize, held);
      return false;
    }
    const size =
      (await checkpointSizeIn(db, held + 1, held + maxLeaves, 'largest')) ??
      (await checkpointSizeIn(db, held + 1, latestSize, 'smallest'));
    if (size === undefined) return false;
    const checkpoint = await getCheckpoint(db, size);
    if (checkpoint === undefined) return false;
    const leaves = await readLeavesWithEvidence(db, held, size);
    if (leaves.length !== size - held) {
      throw new CollectorPushError(`leaves ${held}…${size - 1} are not all in the log store`, false);
    }
    const withContent = new Set<number>();
    for (const leaf of leaves) {
      if (leaf.contentStored && (await putContent(origin, leaf))) withContent.add(leaf.leafIndex);
    }
    const proof = held > 0 ? await consistencyProofFor(db, held, size) : [];
    const body = {
      checkpoint: checkpoint.signed_note,
      ...(held > 0
        ? {
            consistency: {
              fromTreeSize: held,
              proof: proof.map((h) => Buffer.from(h).toString('base64')),
            },
          }
        : {}),
      leaves: leaves.map((l) => ({
        leafIndex: l.leafIndex,
        leafHash: l.leafHash,
        content: withContent.has(l.leafIndex),
        record: evidenceRecordOf(l),
      })),
    };
    const answer = (await request('POST', deviceUrl(origin, '/push'), {
      bytes: await gzip(Buffer.from(JSON.stringify(body))),
      type: 'application/json',
    })) as { treeSize?: number; cosignature?: string; appended?: number };
    if (answer.treeSize !== size || typeof answer.cosignature !== 'string') {
      throw new CollectorPushError(
        `the push of tree size ${size} was answered with tree size ${answer.treeSize}`,
        false,
      );
    }
    await acceptCosignature(size, checkpoint.signed_note, answer.cosignature);
    await recordCollectorAck(db, target.name, size, now());
    await updateLag(latestSize, size);
    log.info(
      { treeSize: size, from: held, leaves: leaves.length, appended: answer.appended },
      'pushed to collector',
    );
    // Caught up: the next round looks at anchors at once (they go after the leaves they anchor).
    return size < latestSize || (anchorsEnabled && nextAnchorScanAt <= now());
  }

  return {
    name: `collector-push:${target.name}`,
    target,
    fleet,
    async runOnce() {
      return (await pushOnce()) || (await fleetOnce());
    },
  };

  async function pushOnce(): Promise<boolean> {
    if (stopped) return false;
    const state = await getCollectorPushState(db, target.name);
    if (state !== undefined && state.nextAttemptAt > now()) return false;
    const latest = await getLatestCheckpoint(db);
    if (latest === undefined) return false;
    if (
      state !== undefined &&
      state.ackedTreeSize >= Number(latest.tree_size) &&
      state.lastError === undefined
    ) {
      // Caught up: the anchors' turn (no network unless there is an anchor to send).
      if (!anchorsEnabled || nextAnchorScanAt > now()) return false;
      return await anchorStep(state.ackedTreeSize);
    }
    try {
      return await round();
    } catch (err) {
      const { permanent } = await recordFailure(err, (state?.attempts ?? 0) + 1, recordCollectorFailure, {
        stopped: 'collector refused the push: pushing to it stopped until the keeper restarts',
        retrying: 'push to collector failed; backing off',
      });
      if (permanent) stopped = true;
      const acked = (await getCollectorPushState(db, target.name))?.ackedTreeSize ?? 0;
      await updateLag(Number(latest.tree_size), acked);
      return false;
    }
  }
}

interface CollectorGauges {
  readonly lagLeaves: Gauge<'collector'>;
  readonly lagSeconds: Gauge<'collector'>;
}

const GAUGES = new WeakMap<Registry, CollectorGauges>();

/** The per-collector lag gauges (one pair per registry, shared by the collectors' tasks). */
function collectorGauges(registry: Registry): CollectorGauges {
  let gauges = GAUGES.get(registry);
  if (gauges === undefined) {
    gauges = {
      lagLeaves: new Gauge({
        name: 'fieldproof_collector_lag_leaves',
        help: 'Leaves signed by this unit that the collector has not acknowledged',
        labelNames: ['collector'],
        registers: [registry],
      }),
      lagSeconds: new Gauge({
        name: 'fieldproof_collector_lag_seconds',
        help: 'Age of the oldest leaf the collector has not acknowledged (0 when caught up)',
        labelNames: ['collector'],
        registers: [registry],
      }),
    };
    GAUGES.set(registry, gauges);
  }
  return gauges;
}
