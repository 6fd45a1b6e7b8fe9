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
  getDeviceCheckpoint,
  getDeviceLeafHashes,
  getDeviceNodes,
  insertDeviceCheckpoint,
  insertDeviceLeaves,
  insertDeviceNodes,
} from '../db/device-tree.js';
import { upsertDeviceAnchor } from '../db/device-anchors.js';
import { lockDevice, updateDeviceHead } from '../db/devices.js';
import { insertEquivocation } from '../db/equivocations.js';
import { PushRefusedError, refuse } from './push-errors.js';
import type { PushAccepted } from './push-request.js';
import type { VerifiedPush } from './verify-push.js';

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

/**
 * Mirrors a verified push into the device's tree, in ONE transaction that first locks the device row:
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
): Promise<PushAccepted> {
  const { collector, cosigner } = context;
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
    const appended = appendToFrontier(
      await frontierAt(trx, deviceId, held),
      held,
      fresh.map((l) => fromHex(l.leafHash)),
    );
    const rebuilt = toHex(rootFromFrontier(appended.frontier));
    if (appended.treeSize !== push.treeSize || rebuilt !== push.rootHash) {
      refuse(
        'root_mismatch',
        `the leaves rebuild the root ${rebuilt}, not the checkpoint's ${push.rootHash}`,
      );
    }
    try {
      await insertDeviceLeaves(trx, deviceId, fresh, now);
    } catch (err) {
      // The only unique key a verified, consecutive batch can hit: a record id mirrored at another index.
      if (isUniqueViolation(err))
        refuse('leaf_mismatch', 'a record id in this push is already mirrored at another index');
      throw err;
    }
    await insertDeviceNodes(
      trx,
      deviceId,
      appended.nodes.map((n) => ({ level: n.level, index: n.index, hash: toHex(n.hash) })),
    );
    const cosignedAt = Math.floor(now / 1000);
    const cosignature = cosigner.cosign(push.text, cosignedAt);
    await insertDeviceCheckpoint(trx, {
      device_id: deviceId,
      tree_size: push.treeSize,
      root_hash: push.rootHash,
      signed_note: push.signedNote,
      cosignature: cosignature.line,
      cosigned_at: cosignedAt,
      received_at: now,
    });
    await updateDeviceHead(trx, deviceId, { treeSize: push.treeSize, rootHash: push.rootHash, now });
    return {
      kind: 'accepted',
      result: {
        origin: device.origin,
        treeSize: push.treeSize,
        rootHash: push.rootHash,
        cosignature: cosignature.line,
        cosignedAt,
        appended: fresh.length,
        anchorsStored: 0,
      },
    };
  }
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
