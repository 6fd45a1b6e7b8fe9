import { getNodes } from '@fieldproof/db';
import type { Schema } from '@fieldproof/db';
import { MissingNodeError, buildProof, fromHex } from '@fieldproof/merkle';
import type { Hash, NodeId, ProofElement } from '@fieldproof/merkle';
import type { Kysely } from 'kysely';
import { LogInconsistencyError } from '../errors.js';

/**
 * Perfect nodes never change once stored (the log is append-only; a node is written in the transaction
 * that appends its last leaf, so a node read here is committed). The upper levels are shared by almost
 * every proof of a tree: they are kept here, per database handle, so that a proof reads only its lower
 * levels. "Upper": a node covering at least 1/2^{@link CACHED_TOP_LEVELS} of the tree, so at most
 * ~2^(CACHED_TOP_LEVELS+1) nodes per tree size are ever worth keeping; the map is bounded anyway
 * ({@link MAX_CACHED_NODES}: cleared when full — a restored or replaced database comes with a new handle).
 */
const CACHED_TOP_LEVELS = 12;
const MAX_CACHED_NODES = 16_384;

const caches = new WeakMap<Kysely<Schema>, Map<number, Hash>>();

/** One number per (level, index): level < 64, index < 2^46 (far beyond any log). */
function nodeKey(level: number, index: number): number {
  return index * 64 + level;
}

/** The cached levels for proofs that end at a tree of `treeSize` leaves. */
function lowestCachedLevel(treeSize: number): number {
  return Math.max(0, Math.ceil(Math.log2(Math.max(treeSize, 1))) - CACHED_TOP_LEVELS);
}

/** A stored 64-hex node hash as bytes; anything else is a broken store (fromHex's error). */
function decode(hex: string): Hash {
  if (hex.length === 64) {
    const bytes = Buffer.from(hex, 'hex');
    if (bytes.length === 32) return new Uint8Array(bytes.buffer, bytes.byteOffset, 32);
  }
  return fromHex(hex);
}

/**
 * Builds the proof that `elements` describe from stored nodes, with at most ONE query (O(log n)
 * primary-key reads, fewer when the upper levels are cached). A node the store lacks means the log is
 * broken below a size it signed: {@link LogInconsistencyError}, with the merkle error as `cause`.
 * `treeSize`: the larger tree the proof ends at (decides which levels are cached).
 */
export async function readProof(
  db: Kysely<Schema>,
  elements: readonly ProofElement[],
  treeSize: number,
): Promise<Hash[]> {
  if (elements.length === 0) return [];
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = new Map();
    caches.set(db, cache);
  }
  const cachedFrom = lowestCachedLevel(treeSize);
  const found = new Map<number, Hash>();
  const missing: NodeId[] = [];
  for (const element of elements) {
    for (const id of element) {
      const key = nodeKey(id.level, id.index);
      const hash = id.level >= cachedFrom ? cache.get(key) : undefined;
      if (hash === undefined) missing.push(id);
      else found.set(key, hash);
    }
  }
  if (missing.length > 0) {
    const rows = await getNodes(db, missing);
    if (cache.size + rows.length > MAX_CACHED_NODES) cache.clear();
    for (const r of rows) {
      const key = nodeKey(r.level, r.index);
      const hash = decode(r.hash);
      found.set(key, hash);
      if (r.level >= cachedFrom) cache.set(key, hash);
    }
  }
  try {
    return buildProof(elements, (level, index) => found.get(nodeKey(level, index)));
  } catch (err) {
    if (err instanceof MissingNodeError) {
      throw new LogInconsistencyError(`the log store lacks a node a proof needs: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
}
