import { isUniqueViolation, newId } from '@fieldproof/db';
import {
  MerkleError,
  appendToFrontier,
  fromHex,
  frontierNodes,
  rootFromFrontier,
  toHex,
  verifyConsistency,
} from '@fieldproof/merkle';
import type { Hash } from '@fieldproof/merkle';
import type { Cosigner } from '@fieldproof/note';
import type { Kysely } from 'kysely';
import type { CollectorDatabase } from '../db/collector-database.js';
import type { CollectorSchema, EquivocationReason } from '../db/collector-schema.js';
import {
  appendDeviceTree,
  getDeviceCheckpoint,
  getDeviceLeafHashes,
  getDeviceNodes,
  insertDeviceCheckpoint,
} from '../db/device-tree.js';
import type { DeviceTreeAppend } from '../db/device-tree.js';
import { upsertDeviceAnchor } from '../db/device-anchors.js';
import { lockDevice } from '../db/devices.js';
import type { DeviceRow } from '../db/devices.js';
import { insertEquivocation } from '../db/equivocations.js';
import { FrontierCache } from './frontier-cache.js';
import { PushRefusedError, refuse } from './push-errors.js';
import type { PushAccepted } from './push-request.js';
import type { VerifiedLeaf, VerifiedPush } from './verify-push.js';

/** The stored tree disagrees with itself: a bug or a damaged database, never the unit's fault. */
export class MirrorInconsistencyError extends Error {
  override readonly name = 'MirrorInconsistencyError';
}

/** What {@link applyPush} needs besides the push. */
export interface ApplyPushContext {
  readonly collector: CollectorDatabase;
  readonly cosigner: Cosigner;
  /** Unix milliseconds (cosignatures carry whole seconds of it). */
  readonly now: () => number;
}

type Outcome =
  | { readonly kind: 'accepted'; readonly result: PushAccepted }
  | { readonly kind: 'equivocation'; readonly reason: EquivocationReason; readonly message: string };

/** The device's head as read when the push was authenticated (no lock held): where an append starts. */
export type SeenDevice = Pick<DeviceRow, 'origin' | 'tree_size' | 'root_hash'>;

/**
 * Mirrors a verified push into the device's tree.
 *
 * The common push — leaves that continue exactly the head `seen` when the push was authenticated, with a
 * consistency proof from that head and no anchors — is first tried without a transaction (PostgreSQL:
 * two statements, {@link tryAppendUnlocked}): every check below is made against `seen`, and the write is
 * a compare-and-set on the head, so it lands only if no other push moved the head since. Anything else,
 * a check that fails or a head that moved, takes the locked path, which decides alone what to answer.
 *
 * The locked path runs in ONE transaction that first locks the device row:
 *
 * ```text
 *  lock devices row ─▶ held head (S, rootS)
 *    T < S  : root at T from stored nodes = pushed root?        yes ▶ re-send (answer S)  no ▶ fork
 *    T = S  : rootS = pushed root?                               yes ▶ re-send             no ▶ fork
 *    T > S  : consistency proof from F ≤ S to T verifies?        no ▶ fork
 *             leaves [S, T) on the frontier of S rebuild the root? no ▶ 422, nothing stored
 *             insert leaves, nodes, checkpoint + cosignature; move the head to T
 * ```
 *
 * A fork keeps both signed checkpoints (and the proof) and commits that alone, then throws
 * PushRefusedError('equivocation'). Every other refusal rolls back. Cosigning is CPU only, so it runs
 * inside the transaction; nothing here awaits the network.
 */
export async function applyPush(
  context: ApplyPushContext,
  deviceId: string,
  push: VerifiedPush,
  seen?: SeenDevice,
): Promise<PushAccepted> {
  const { collector } = context;
  if (seen !== undefined) {
    const appended = await tryAppendUnlocked(context, deviceId, seen, push);
    if (appended !== undefined) return appended;
  }
  const outcome = await collector.db.transaction().execute(async (trx): Promise<Outcome> => {
    const mirrored = await mirror(trx);
    if (mirrored.kind !== 'accepted' || push.anchors.length === 0) return mirrored;
    const anchorsStored = await storeAnchors(trx, context, deviceId, mirrored.result.treeSize, push);
    return { kind: 'accepted', result: { ...mirrored.result, anchorsStored } };
  });
  if (outcome.kind === 'equivocation') {
    throw new PushRefusedError({ kind: 'equivocation', message: outcome.message });
  }
  return outcome.result;

  async function mirror(trx: Kysely<CollectorSchema>): Promise<Outcome> {
    const device = await lockDevice(trx, collector.database.capabilities, deviceId);
    if (device === undefined) throw new MirrorInconsistencyError(`device ${deviceId} vanished`);
    const now = context.now();
    const held = device.tree_size;
    const heldRoot = device.root_hash;
    const fork = async (reason: EquivocationReason, message: string): Promise<Outcome> => {
      const heldCheckpoint = await getDeviceCheckpoint(trx, deviceId, held);
      await insertEquivocation(trx, {
        id: newId(),
        device_id: deviceId,
        reason,
        held_tree_size: held,
        held_checkpoint: heldCheckpoint?.signed_note ?? '',
        pushed_tree_size: push.treeSize,
        pushed_checkpoint: push.signedNote,
        consistency:
          push.consistency === undefined
            ? null
            : JSON.stringify({
                fromTreeSize: push.consistency.fromTreeSize,
                proof: push.consistency.proof.map((h) => Buffer.from(h).toString('base64')),
              }),
        detected_at: now,
      });
      return { kind: 'equivocation', reason, message };
    };
    const answerHeld = async (): Promise<Outcome> => {
      const checkpoint = await getDeviceCheckpoint(trx, deviceId, held);
      if (checkpoint === undefined)
        throw new MirrorInconsistencyError(`no checkpoint of the held size ${held}`);
      return {
        kind: 'accepted',
        result: {
          origin: device.origin,
          treeSize: held,
          rootHash: checkpoint.root_hash,
          cosignature: checkpoint.cosignature,
          cosignedAt: checkpoint.cosigned_at,
          appended: 0,
          anchorsStored: 0,
        },
      };
    };

    if (held > 0 && push.treeSize <= held) {
      const rootThen = push.treeSize === held ? heldRoot! : toHex(await rootAt(trx, deviceId, push.treeSize));
      if (rootThen === push.rootHash) return answerHeld();
      return push.treeSize === held
        ? fork(
            'same_size_other_root',
            `the checkpoint of size ${held} has another root than the one cosigned`,
          )
        : fork(
            'not_consistent',
            `the checkpoint of size ${push.treeSize} is not a prefix of the cosigned ${held}`,
          );
    }

    if (held > 0) {
      const from = push.consistency?.fromTreeSize;
      if (push.consistency === undefined || from === undefined || from === 0 || from > held) {
        refuse(
          'leaf_gap',
          `send a consistency proof from a tree size in 1..${held} (the collector holds ${held})`,
        );
      }
      const rootFrom = from === held ? fromHex(heldRoot!) : await rootAt(trx, deviceId, from);
      try {
        verifyConsistency(from, push.treeSize, push.consistency.proof, rootFrom, push.root);
      } catch (err) {
        if (!(err instanceof MerkleError)) throw err;
        return fork(
          'not_consistent',
          `the checkpoint of size ${push.treeSize} is not consistent with the cosigned ${held}: ${err.message}`,
        );
      }
    }

    const first = push.leaves[0]?.leafIndex ?? push.treeSize;
    if (first > held)
      refuse('leaf_gap', `the leaves start at ${first}; the collector holds ${held} (send from ${held})`);
    const overlap = push.leaves.filter((l) => l.leafIndex < held);
    if (overlap.length > 0) {
      const stored = await getDeviceLeafHashes(trx, deviceId, first, held);
      overlap.forEach((l, i) => {
        if (stored[i] !== l.leafHash)
          refuse('leaf_mismatch', `leaf ${l.leafIndex} differs from the one mirrored`);
      });
    }
    const fresh = push.leaves.filter((l) => l.leafIndex >= held);
    const built = appendOf(context, deviceId, held, await frontierAt(trx, deviceId, held), fresh, push, now);
    if (built === undefined) {
      refuse('root_mismatch', `the leaves do not rebuild the checkpoint's root ${push.rootHash}`);
    }
    const { append } = built;
    try {
      // Under the lock the head is `held`: the compare-and-set cannot miss.
      if (!(await appendDeviceTree(trx, collector.database.capabilities, append))) {
        throw new MirrorInconsistencyError(`the head of device ${deviceId} moved under its lock`);
      }
    } catch (err) {
      // The only unique key a verified, consecutive batch can hit: a record id mirrored at another index.
      if (isUniqueViolation(err))
        refuse('leaf_mismatch', 'a record id in this push is already mirrored at another index');
      throw err;
    }
    // Before COMMIT: should it roll back, the entry is of a head the database does not give, never used.
    appendedFrontiers(collector).set(deviceId, push.treeSize, built.frontier);
    return { kind: 'accepted', result: acceptedOf(device.origin, append) };
  }
}

/**
 * The unlocked append (see {@link applyPush}): undefined when the push is not a plain continuation of
 * `seen`, when any check fails (the locked path then decides and answers), or when the compare-and-set
 * finds the head moved. Round trips: {@link appendDeviceTree} alone when this process appended `seen`
 * (its frontier is cached), else a read of the frontier first.
 */
async function tryAppendUnlocked(
  context: ApplyPushContext,
  deviceId: string,
  seen: SeenDevice,
  push: VerifiedPush,
): Promise<PushAccepted | undefined> {
  const held = seen.tree_size;
  if (push.anchors.length > 0 || push.treeSize <= held || push.leaves[0]?.leafIndex !== held)
    return undefined;
  if (held > 0) {
    if (push.consistency?.fromTreeSize !== held || seen.root_hash === null) return undefined;
    try {
      verifyConsistency(held, push.treeSize, push.consistency.proof, fromHex(seen.root_hash), push.root);
    } catch (err) {
      if (err instanceof MerkleError) return undefined;
      throw err;
    }
  }
  const { collector } = context;
  const frontiers = appendedFrontiers(collector);
  const frontier =
    frontiers.get(deviceId, held, seen.root_hash) ?? (await frontierAt(collector.db, deviceId, held));
  const built = appendOf(context, deviceId, held, frontier, push.leaves, push, context.now());
  if (built === undefined) return undefined;
  try {
    const moved = await appendDeviceTree(collector.db, collector.database.capabilities, built.append);
    if (!moved) return undefined;
  } catch (err) {
    if (isUniqueViolation(err)) return undefined;
    throw err;
  }
  frontiers.set(deviceId, push.treeSize, built.frontier);
  return acceptedOf(seen.origin, built.append);
}

const FRONTIERS = new WeakMap<CollectorDatabase, FrontierCache>();

/** The frontiers this process appended on `collector` (one cache per open database). */
function appendedFrontiers(collector: CollectorDatabase): FrontierCache {
  let cache = FRONTIERS.get(collector);
  if (cache === undefined) {
    cache = new FrontierCache();
    FRONTIERS.set(collector, cache);
  }
  return cache;
}

/**
 * The rows that append `fresh` (the leaves from `held` on) to the tree whose frontier at `held` is
 * `frontier`, with the checkpoint cosigned — or undefined when they do not rebuild the push's root.
 */
function appendOf(
  context: ApplyPushContext,
  deviceId: string,
  held: number,
  frontier: readonly Hash[],
  fresh: readonly VerifiedLeaf[],
  push: VerifiedPush,
  now: number,
): { readonly append: DeviceTreeAppend; readonly frontier: Hash[] } | undefined {
  const appended = appendToFrontier(
    frontier,
    held,
    fresh.map((l) => l.hash),
  );
  if (appended.treeSize !== push.treeSize || toHex(rootFromFrontier(appended.frontier)) !== push.rootHash) {
    return undefined;
  }
  // Cosigning is CPU only: no network between the checks and the write.
  const cosignedAt = Math.floor(now / 1000);
  const append: DeviceTreeAppend = {
    deviceId,
    heldTreeSize: held,
    leaves: fresh,
    nodes: appended.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })),
    checkpoint: {
      device_id: deviceId,
      tree_size: push.treeSize,
      root_hash: push.rootHash,
      signed_note: push.signedNote,
      cosignature: context.cosigner.cosign(push.text, cosignedAt).line,
      cosigned_at: cosignedAt,
      received_at: now,
    },
  };
  return { append, frontier: appended.frontier };
}

function acceptedOf(origin: string, append: DeviceTreeAppend): PushAccepted {
  const { checkpoint } = append;
  return {
    origin,
    treeSize: checkpoint.tree_size,
    rootHash: checkpoint.root_hash,
    cosignature: checkpoint.cosignature,
    cosignedAt: checkpoint.cosigned_at,
    appended: append.leaves.length,
    anchorsStored: 0,
  };
}

/**
 * Stores the push's verified anchors, under the device lock after its leaves: each must anchor a
 * checkpoint of the device's mirrored tree — of at most the held size, with the root the collector's own
 * nodes give for that size (`FP_ANCHOR_MISMATCH` otherwise, and the whole push rolls back). A signed
 * checkpoint of that size the collector did not hold yet (pushes end at the largest checkpoint of a batch)
 * is stored and cosigned: it is a prefix of what the collector cosigned. Returns how many anchors changed.
 */
async function storeAnchors(
  trx: Kysely<CollectorSchema>,
  context: ApplyPushContext,
  deviceId: string,
  heldTreeSize: number,
  push: VerifiedPush,
): Promise<number> {
  const now = context.now();
  let changed = 0;
  for (const anchor of push.anchors) {
    if (anchor.treeSize > heldTreeSize) {
      refuse(
        'anchor_mismatch',
        `anchor ${anchor.txHash} is of tree size ${anchor.treeSize}; the collector holds ${heldTreeSize} (push the leaves first)`,
      );
    }
    let checkpoint = await getDeviceCheckpoint(trx, deviceId, anchor.treeSize);
    if (checkpoint === undefined) {
      const root = toHex(await rootAt(trx, deviceId, anchor.treeSize));
      if (root !== anchor.anchoredRoot) {
        refuse(
          'anchor_mismatch',
          `anchor ${anchor.txHash} anchors the root ${anchor.anchoredRoot} at tree size ${anchor.treeSize}; the mirrored tree has ${root}`,
        );
      }
      const cosignedAt = Math.floor(now / 1000);
      checkpoint = {
        device_id: deviceId,
        tree_size: anchor.treeSize,
        root_hash: root,
        signed_note: anchor.signedNote,
        cosignature: context.cosigner.cosign(anchor.text, cosignedAt).line,
        cosigned_at: cosignedAt,
        received_at: now,
        fleet_evidence_id: null,
        fleet_leaf_index: null,
      };
      await insertDeviceCheckpoint(trx, checkpoint);
    }
    if (checkpoint.root_hash !== anchor.anchoredRoot) {
      refuse(
        'anchor_mismatch',
        `anchor ${anchor.txHash} anchors the root ${anchor.anchoredRoot} at tree size ${anchor.treeSize}; the unit's signed checkpoint has ${checkpoint.root_hash}`,
      );
    }
    const { anchoredRoot: _root, signedNote: _note, text: _text, ...stored } = anchor;
    if (await upsertDeviceAnchor(trx, deviceId, stored, now)) changed++;
  }
  return changed;
}

/** The frontier of the device's tree at `treeSize` from stored nodes (popcount(treeSize) reads). */
async function frontierAt(trx: Kysely<CollectorSchema>, deviceId: string, treeSize: number): Promise<Hash[]> {
  const ids = frontierNodes(treeSize);
  const rows = await getDeviceNodes(trx, deviceId, ids);
  const byId = new Map(rows.map((r) => [`${r.level}/${r.index}`, r.hash]));
  return ids.map(({ level, index }) => {
    const hash = byId.get(`${level}/${index}`);
    if (hash === undefined) {
      throw new MirrorInconsistencyError(`node (${level}, ${index}) of device ${deviceId} is missing`);
    }
    return fromHex(hash);
  });
}

async function rootAt(trx: Kysely<CollectorSchema>, deviceId: string, treeSize: number): Promise<Hash> {
  return rootFromFrontier(await frontierAt(trx, deviceId, treeSize));
}
