import type { CollectorTarget } from '@fieldproof/config';
import type { Logger } from 'pino';
import {
  advanceFleetProofCursor,
  getCheckpoint,
  getFleetProofCursor,
  getLatestCheckpoint,
  listFinalFleetTreeSizes,
  saveFleetProof,
} from '@fieldproof/db';
import type { AnchorJobState } from '@fieldproof/db';
import { deviceNoteHash, fleetLeafMismatch, verifyReceiptV2Offline } from '@fieldproof/receipt';
import type { ReceiptV2 } from '@fieldproof/receipt';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { KeeperDeps } from '../task.js';
import { CollectorPushError } from './collector-client.js';
import type { CollectorClient } from './collector-client.js';

/** Most fleet proofs asked for in one page (the route's cap is 256). */
export const DEFAULT_FLEET_PAGE_LIMIT = 64;

/** One entry of `GET /v1/devices/:origin/fleet-proofs` (docs/COLLECTOR.md, "Fleet proofs"). */
interface FleetProofEntry {
  readonly treeSize: number;
  readonly noteHash: string;
  readonly receipt: unknown;
}

/** A page of fleet proofs, checked and ready to store. */
interface VerifiedFleetProof {
  readonly treeSize: number;
  readonly noteHash: string;
  readonly fleetTreeSize: number;
  readonly receipt: ReceiptV2;
  readonly state: AnchorJobState;
}

export interface FleetProofFetcher {
  /**
   * One bounded step: when due, fetch one page after the stored cursor, verify every entry, store them
   * and advance the cursor. Resolves true when another page follows at once. Throws
   * {@link CollectorPushError} (permanent for a refused page) for the pusher to record and back off.
   */
  step(): Promise<boolean>;
  /** Whether a step is due now (a plain read: backing off, or polled less than `pollMs` ago). */
  due(): Promise<boolean>;
  /**
   * For the keeper's `/readyz`: not ok once fetching stopped on a refusal, or has failed for longer than
   * `downReadyMs`; otherwise the largest checkpoint of this unit that is final through this collector.
   */
  readiness(): Promise<{ ok: boolean; detail: string }>;
}

/**
 * The fleet-proof half of a collector's push channel (issue 16): for a collector with a `fleetKey`,
 * `GET /v1/devices/:origin/fleet-proofs?after=cursor&limit=n` returns, for this unit's checkpoints, the
 * fleet leaf's v2 receipt once its fleet checkpoint is anchored final (again after a reorg). Every entry
 * is verified offline before anything of its page is stored: every link of the v2 verifier but
 * `canonical` (which needs a chain source; the unit reaches none) holds, the fleet checkpoint is signed
 * by the pinned `fleetKey`, and the fleet leaf is the record of a checkpoint this unit signed (kind
 * `device-checkpoint`, digest the SHA-256 of that checkpoint's signed note, origin, tree size and root).
 * A page with one entry that fails is refused whole — nothing of it is stored — and fetching from this
 * collector stops until the keeper restarts (the configuration or the collector is wrong), as for a
 * cosignature that does not verify.
 */
export function createFleetProofFetcher(
  deps: KeeperDeps,
  target: CollectorTarget & { readonly fleetKey: string },
  client: CollectorClient,
  options: {
    readonly pollMs: number;
    readonly downReadyMs: number;
    readonly limit?: number;
    readonly log: Logger;
  },
): FleetProofFetcher {
  const { database, now } = deps;
  const startedAt = now();
  const db = database.db;
  const limit = options.limit ?? DEFAULT_FLEET_PAGE_LIMIT;
  const metrics = fleetMetrics(deps.registry);
  const labels = { collector: target.name };
  let nextFetchAt = 0;

  async function verifyEntry(entry: FleetProofEntry): Promise<VerifiedFleetProof> {
    const where = `fleet proof of tree size ${String(entry.treeSize)}`;
    const refuse = (why: string) => new CollectorPushError(`${where} refused: ${why}`, true);
    if (!Number.isSafeInteger(entry.treeSize) || entry.treeSize < 1) throw refuse('no tree size');
    const mine = await getCheckpoint(db, entry.treeSize);
    if (mine === undefined) throw refuse('this unit signed no checkpoint of that size');
    const noteHash = deviceNoteHash(mine.signed_note);
    if (entry.noteHash !== noteHash) {
      throw refuse(
        `its note hash ${String(entry.noteHash)} is not that of this unit's checkpoint (${noteHash})`,
      );
    }
    const verification = verifyReceiptV2Offline(entry.receipt, {
      expectedPublicKey: target.fleetKey,
      fleetKeys: [target.fleetKey],
    });
    const broken = verification.links.filter((l) => l.status === 'failed');
    if (broken.length > 0) {
      throw refuse(`its receipt does not verify: ${broken.map((l) => `${l.link}: ${l.detail}`).join('; ')}`);
    }
    const receipt = entry.receipt as ReceiptV2;
    const mismatch = fleetLeafMismatch(receipt.evidence, mine.signed_note);
    if (mismatch !== undefined) throw refuse(mismatch);
    const inclusion = receipt.steps.find((s) => s.type === 'inclusion');
    return {
      treeSize: entry.treeSize,
      noteHash,
      fleetTreeSize: inclusion?.type === 'inclusion' ? inclusion.treeSize : 0,
      receipt,
      state: bestState(receipt),
    };
  }

  return {
    async readiness() {
      const state = await getFleetProofCursor(db, target.name);
      const final = (await listFinalFleetTreeSizes(db)).find((f) => f.collector === target.name);
      const through = final === undefined ? 'nothing final yet' : `final through tree size ${final.treeSize}`;
      if (state?.stopped === true) {
        return { ok: false, detail: `${target.name}: fetching stopped (${state.lastError ?? 'refused'})` };
      }
      if (state?.lastError !== undefined) {
        const downMs = now() - (state.fetchedAt ?? startedAt);
        const detail = `${target.name}: fetching failing for ${Math.round(downMs / 1000)} s (${state.lastError}); ${through}`;
        return { ok: downMs <= options.downReadyMs, detail };
      }
      return { ok: true, detail: `${target.name}: ${through}` };
    },
    async due() {
      if (nextFetchAt > now()) return false;
      const state = await getFleetProofCursor(db, target.name);
      return state === undefined || state.nextAttemptAt <= now();
    },
    async step() {
      const latest = await getLatestCheckpoint(db);
      if (latest === undefined) {
        nextFetchAt = now() + options.pollMs;
        return false;
      }
      const cursor = (await getFleetProofCursor(db, target.name))?.cursor ?? '';
      const query = `?after=${encodeURIComponent(cursor)}&limit=${limit}`;
      const page = (await client.request(
        'GET',
        client.deviceUrl(latest.origin, `/fleet-proofs${query}`),
      )) as {
        fleetKey?: unknown;
        cursor?: unknown;
        more?: unknown;
        proofs?: unknown;
      };
      if (typeof page.cursor !== 'string' || !Array.isArray(page.proofs) || page.proofs.length > limit) {
        throw new CollectorPushError('the fleet-proof answer is not a page of at most `limit` proofs', false);
      }
      if (page.fleetKey !== target.fleetKey) {
        throw new CollectorPushError(
          `the collector's fleet key is ${String(page.fleetKey)}; KEEPER_COLLECTORS pins ${target.fleetKey}`,
          true,
        );
      }
      const verified: VerifiedFleetProof[] = [];
      try {
        for (const entry of page.proofs as FleetProofEntry[]) verified.push(await verifyEntry(entry));
      } catch (err) {
        metrics.proofs.inc({ ...labels, outcome: 'refused' });
        throw err;
      }
      for (const proof of verified) {
        const outcome = await saveFleetProof(db, {
          collector: target.name,
          treeSize: proof.treeSize,
          noteHash: proof.noteHash,
          fleetTreeSize: proof.fleetTreeSize,
          receipt: JSON.stringify(proof.receipt),
          state: proof.state,
          now: now(),
        });
        metrics.proofs.inc({ ...labels, outcome: outcome === 'inserted' ? 'stored' : 'replaced' });
        if (outcome === 'replaced') {
          options.log.info(
            { treeSize: proof.treeSize, fleetTreeSize: proof.fleetTreeSize },
            'fleet proof replaced: the collector re-anchored this checkpoint',
          );
        }
      }
      await advanceFleetProofCursor(db, target.name, page.cursor, now());
      const finalSize = Math.max(0, ...verified.filter((p) => p.state === 'final').map((p) => p.treeSize));
      if (finalSize > 0) metrics.finalTreeSize.set(labels, finalSize);
      if (verified.length > 0) {
        options.log.info(
          { proofs: verified.length, largestTreeSize: Math.max(...verified.map((p) => p.treeSize)) },
          'fleet proofs stored',
        );
      }
      if (page.more === true) return true;
      nextFetchAt = now() + options.pollMs;
      return false;
    },
  };
}

/** `final` when a branch with a header proof is final (the verifier checked it); else the best claim. */
function bestState(receipt: ReceiptV2): AnchorJobState {
  const proven = receipt.anchors.some((b) => b.state === 'final' && b.steps.some((s) => s.type === 'header'));
  if (proven) return 'final';
  return receipt.anchors.some((b) => b.steps.some((s) => s.type === 'block')) ? 'included' : 'broadcast';
}

interface FleetMetrics {
  readonly proofs: Counter<'collector' | 'outcome'>;
  readonly finalTreeSize: Gauge<'collector'>;
}

const METRICS = new WeakMap<Registry, FleetMetrics>();

/** The fleet-proof metrics (one set per registry, shared by the collectors' tasks). */
function fleetMetrics(registry: Registry): FleetMetrics {
  let metrics = METRICS.get(registry);
  if (metrics === undefined) {
    metrics = {
      proofs: new Counter({
        name: 'fieldproof_collector_fleet_proofs_total',
        help: 'Fleet proofs fetched from a collector: stored, replaced (re-anchored) or refused',
        labelNames: ['collector', 'outcome'],
        registers: [registry],
      }),
      finalTreeSize: new Gauge({
        name: 'fieldproof_collector_fleet_final_tree_size',
        help: 'Largest checkpoint of this unit with a final fleet proof from the collector',
        labelNames: ['collector'],
        registers: [registry],
      }),
    };
    METRICS.set(registry, metrics);
  }
  return metrics;
}
