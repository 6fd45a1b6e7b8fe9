import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import type { Kysely } from 'kysely';
import { engineOf, idleSqliteHandle } from '../../database.js';
import type { Schema } from '../../schema/schema.js';
import { runBulk } from '../bulk-statement.js';
import type { BulkStatement } from '../bulk-statement.js';

/** A perfect node's position: covers leaves `[index·2^level, (index+1)·2^level)`; level 0 is a leaf. */
export interface LogNodeId {
  readonly level: number;
  readonly index: number;
}

/** A perfect node with its hash (hex). Hashes are 64 lowercase hex characters in the database. */
export interface LogNode extends LogNodeId {
  readonly hash: string;
}

const INSERT_NODES: BulkStatement<LogNode> = {
  name: 'log_nodes.insert',
  maxRows: 512,
  build: (db, n) =>
    db
      .insertInto('log_nodes')
      .values(new Array(n).fill({ level: null, node_index: null, hash: null }) as never[]),
  values: (x) => [x.level, x.index, x.hash],
};

/** Inserts perfect nodes of level ≥ 1, in the caller's transaction. */
export async function insertNodes(trx: Kysely<Schema>, nodes: readonly LogNode[]): Promise<void> {
  await runBulk(trx, INSERT_NODES, nodes);
}

/**
 * The stored perfect nodes among `ids`, in ONE query: level 0 from `log_leaves`, levels ≥ 1 from
 * `log_nodes`, each looked up by primary key. Use it for the frontier (`frontierNodes(treeSize)`, one id
 * per set bit of the size) and for proofs (`inclusionProofNodes(...).flat()`): O(log n) rows either way.
 * Ids not stored are simply absent from the result. Order of the result is unspecified.
 */
export async function getNodes(db: Kysely<Schema>, ids: readonly LogNodeId[]): Promise<LogNode[]> {
  const leafIndices = [...new Set(ids.filter((id) => id.level === 0).map((id) => id.index))];
  const inner = ids.filter((id) => id.level > 0);
  if (leafIndices.length === 0 && inner.length === 0) return [];
  // Hot path (every proof, every sequenced batch): one statement whose text never changes, with the ids
  // passed as parameters, so neither kysely nor the engine re-plans an OR of log n terms each time.
  const sqlite = engineOf(db) === 'sqlite';
  const params = sqlite
    ? [JSON.stringify(leafIndices), JSON.stringify(inner.map((id) => [id.level, id.index]))]
    : [leafIndices, inner.map((id) => id.level), inner.map((id) => id.index)];
  // Outside a transaction, on SQLite, straight on the handle with a statement prepared once: a proof is
  // this one read, and kysely's pipeline cost more than the read itself (idleSqliteHandle).
  const handle = sqlite ? idleSqliteHandle(db) : undefined;
  const rows =
    handle === undefined
      ? (
          await db.executeQuery<NodeRow>(
            CompiledQuery.raw(sqlite ? SQLITE_GET_NODES : POSTGRES_GET_NODES, params),
          )
        ).rows
      : (getNodesStatement(handle).all(...params) as NodeRow[]);
  return rows.map((r) => ({ level: r.level, index: r.node_index, hash: r.hash }));
}

type NodeRow = { level: number; node_index: number; hash: string };

const getNodesStatements = new WeakMap<BetterSqlite3.Database, BetterSqlite3.Statement>();

function getNodesStatement(handle: BetterSqlite3.Database): BetterSqlite3.Statement {
  let stmt = getNodesStatements.get(handle);
  if (stmt === undefined) {
    stmt = handle.prepare(SQLITE_GET_NODES);
    getNodesStatements.set(handle, stmt);
  }
  return stmt;
}

/** getNodes on SQLite: the ids arrive as JSON arrays ([index…] and [[level, index]…]). */
const SQLITE_GET_NODES = `SELECT 0 AS level, leaf_index AS node_index, leaf_hash AS hash
FROM log_leaves WHERE leaf_index IN (SELECT value FROM json_each(?))
UNION ALL
SELECT n.level, n.node_index, n.hash
FROM json_each(?) AS j
JOIN log_nodes AS n ON n.level = j.value ->> 0 AND n.node_index = j.value ->> 1`;

/** getNodes on PostgreSQL: the ids arrive as arrays. */
const POSTGRES_GET_NODES = `SELECT 0 AS level, leaf_index AS node_index, leaf_hash AS hash
FROM log_leaves WHERE leaf_index = ANY($1::bigint[])
UNION ALL
SELECT n.level, n.node_index, n.hash
FROM unnest($2::int[], $3::bigint[]) AS j(level, node_index)
JOIN log_nodes AS n ON n.level = j.level AND n.node_index = j.node_index`;
