/**
 * `@fieldproof/merkle`: RFC 6962 / RFC 9162 Merkle trees for an append-only log. Pure: no storage, no I/O.
 *
 * - Hashing: {@link hashLeaf}, {@link hashLeafUtf8}, {@link hashChildren}, {@link EMPTY_ROOT}, {@link sha256}, {@link toHex},
 *   {@link fromHex}.
 * - Roots: {@link rootFromLeafHashes} (whole list), {@link appendToFrontier} + {@link rootFromFrontier}
 *   (growing log), {@link frontierNodes} (frontier of any size from stored nodes).
 * - Proofs from a node store: {@link inclusionProofNodes} / {@link consistencyProofNodes} say which
 *   nodes, {@link buildProof} assembles them.
 * - Verification: {@link verifyInclusion}, {@link verifyConsistency} and their `rootFrom*` twins.
 */
export {
  EMPTY_ROOT,
  HASH_SIZE,
  SHA256_BACKEND,
  hashChildren,
  hashLeaf,
  hashLeafUtf8,
  sha256,
  type Hash,
} from './hash/hasher.js';
export { fromHex, toHex } from './hash/hex.js';

export type { Node, NodeId, ProofElement } from './tree/node-id.js';
export { frontierNodes } from './tree/frontier-nodes.js';
export { rootFromLeafHashes } from './tree/root-from-leaf-hashes.js';

export { appendToFrontier, type FrontierAppend } from './compact/append-to-frontier.js';
export { rootFromFrontier } from './compact/root-from-frontier.js';

export { buildProof, type NodeLookup } from './proof/build-proof.js';
export { consistencyProofNodes } from './proof/consistency-proof-nodes.js';
export { inclusionProofNodes } from './proof/inclusion-proof-nodes.js';

export { rootFromConsistencyProof, verifyConsistency } from './verify/verify-consistency.js';
export { rootFromInclusionProof, verifyInclusion } from './verify/verify-inclusion.js';

export { MemoryTree } from './memory/memory-tree.js';

export {
  EmptyTreeError,
  FrontierSizeError,
  IndexOutOfRangeError,
  InvalidHashError,
  InvalidHexError,
  InvalidIntegerError,
  MerkleError,
  MissingNodeError,
  ProofLengthError,
  RootMismatchError,
  SizeOrderError,
  TreeSizeError,
} from './errors.js';
