import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  EMPTY_ROOT,
  appendToFrontier,
  fromHex,
  rootFromFrontier,
  toHex,
  type Hash,
} from '@fieldproof/merkle';
import { LEAF_COLUMNS } from '@fieldproof/db';
import {
  decodeAnchorPayload,
  evidenceRecordOf,
  leafHashOf,
  type EvidenceRecordRow,
} from '@fieldproof/receipt';
import type { ChainTx } from '../support/hardhat.js';
import type { Acknowledged } from './drill-load.js';

/**
 * What the drill checks after power comes back, on the files as the "disk" kept them. Each check returns
 * findings instead of throwing, so a drill at a weak setting can count what it lost and go on.
 */

export interface DatabaseFindings {
  /** Acknowledged writes without their evidence row (or with another digest). */
  readonly lost: Acknowledged[];
  /** Anything else wrong: integrity, leaf gaps, a leaf or checkpoint that does not recompute. */
  readonly problems: string[];
  readonly leaves: number;
  readonly checkpoints: number;
  /** tx_hash of every anchor transaction the keeper recorded. */
  readonly anchorTxHashes: ReadonlySet<string>;
}

/** The evidence columns a leaf is made of. */
type EvidenceRow = EvidenceRecordRow;

/**
 * Opens the SQLite file read-only (so closing it changes nothing on the disk) and checks: `PRAGMA
 * integrity_check` is ok; every acknowledged write is there with its digest; leaf indexes are 0…n−1 and
 * each leaf hash recomputes from its evidence row; every checkpoint's root recomputes from the leaves.
 */
export function checkDatabase(file: string, acknowledged: readonly Acknowledged[]): DatabaseFindings {
  const problems: string[] = [];
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    return { lost: [...acknowledged], problems: [`cannot open the database: ${String(err)}`], ...none() };
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    if (integrity !== 'ok') problems.push(`integrity_check: ${integrity}`);
    const evidence = new Map<string, EvidenceRow>();
    for (const row of db.prepare(`SELECT ${LEAF_COLUMNS.join(', ')} FROM evidence`).all() as EvidenceRow[]) {
      evidence.set(row.id, row);
    }
    const lost = acknowledged.filter((a) => evidence.get(a.id)?.digest !== a.digest);

    const leaves = db
      .prepare('SELECT leaf_index, evidence_id, leaf_hash FROM log_leaves ORDER BY leaf_index')
      .all() as { leaf_index: number; evidence_id: string; leaf_hash: string }[];
    const leafHashes: Hash[] = [];
    for (const [i, leaf] of leaves.entries()) {
      if (leaf.leaf_index !== i) {
        problems.push(`leaf indexes are not contiguous: index ${leaf.leaf_index} at position ${i}`);
        break;
      }
      const row = evidence.get(leaf.evidence_id);
      const recomputed = row === undefined ? undefined : toHex(leafHashOf(evidenceRecordOf(row)));
      if (recomputed !== leaf.leaf_hash) {
        problems.push(`leaf ${i}: its hash does not recompute from evidence ${leaf.evidence_id}`);
      }
      leafHashes.push(fromHex(leaf.leaf_hash));
    }

    const checkpoints = db
      .prepare('SELECT tree_size, root_hash FROM log_checkpoints ORDER BY tree_size')
      .all() as { tree_size: number; root_hash: string }[];
    let frontier: Hash[] = [];
    let size = 0;
    for (const cp of checkpoints) {
      if (cp.tree_size > leafHashes.length) {
        problems.push(`checkpoint ${cp.tree_size} is larger than the log (${leafHashes.length} leaves)`);
        break;
      }
      const next = appendToFrontier(frontier, size, leafHashes.slice(size, cp.tree_size));
      frontier = [...next.frontier];
      size = cp.tree_size;
      const root = size === 0 ? EMPTY_ROOT : rootFromFrontier(frontier);
      if (toHex(root) !== cp.root_hash)
        problems.push(`checkpoint ${cp.tree_size}: the root does not recompute`);
    }

    const anchorTxHashes = new Set(
      (db.prepare('SELECT tx_hash FROM anchor_txs').all() as { tx_hash: string }[]).map((r) =>
        r.tx_hash.toLowerCase(),
      ),
    );
    return { lost, problems, leaves: leaves.length, checkpoints: checkpoints.length, anchorTxHashes };
  } catch (err) {
    return {
      lost: [...acknowledged],
      problems: [...problems, `reading the database: ${String(err)}`],
      ...none(),
    };
  } finally {
    db.close();
  }
}

function none() {
  return { leaves: 0, checkpoints: 0, anchorTxHashes: new Set<string>() };
}

/** Acknowledged uploads whose file is missing from `<dataDir>/content` or holds other bytes. */
export function lostContent(dataDir: string, acknowledged: readonly Acknowledged[]): Acknowledged[] {
  return acknowledged.filter((a) => {
    if (!a.upload) return false;
    const file = path.join(dataDir, 'content', a.digest.slice(0, 2), a.digest.slice(2, 4), a.digest);
    try {
      return createHash('sha256').update(fs.readFileSync(file)).digest('hex') !== a.digest;
    } catch {
      return true;
    }
  });
}

export interface AnchorFindings {
  readonly onChain: number;
  /** Checkpoints (tree sizes) with more than one anchor transaction on the chain. */
  readonly sentTwice: number[];
  /** Transactions from the signer that the anchor_txs table does not know (signed, then forgotten). */
  readonly untracked: string[];
}

/** Compares the signer's transactions on the chain with the anchor_txs table. */
export function checkAnchors(onChain: readonly ChainTx[], recorded: ReadonlySet<string>): AnchorFindings {
  const perTreeSize = new Map<number, number>();
  for (const tx of onChain) {
    const { treeSize } = decodeAnchorPayload(tx.input);
    perTreeSize.set(treeSize, (perTreeSize.get(treeSize) ?? 0) + 1);
  }
  return {
    onChain: onChain.length,
    sentTwice: [...perTreeSize].filter(([, n]) => n > 1).map(([size]) => size),
    untracked: onChain.map((t) => t.hash.toLowerCase()).filter((h) => !recorded.has(h)),
  };
}
