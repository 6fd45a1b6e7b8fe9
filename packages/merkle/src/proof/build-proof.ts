import { MerkleError, MissingNodeError } from '../errors.js';
import type { Hash } from '../hash/hasher.js';
import { foldRightToLeft } from '../compact/root-from-frontier.js';
import type { ProofElement } from '../tree/node-id.js';
import { assertHash } from '../validate.js';

/**
 * Reads one perfect node from a node store: level 0 is the leaf hash at `index`, levels ≥ 1 are the
 * `nodes` that appends returned. Returning `undefined` means "not stored" and fails the build.
 */
export type NodeLookup = (level: number, index: number) => Hash | undefined;

/**
 * Turns proof elements from {@link inclusionProofNodes} or {@link consistencyProofNodes} into the proof:
 * one hash per element, the stored node itself or, for a right-edge subtree, its parts folded right to
 * left (`acc = hashChildren(part, acc)`).
 * Preconditions: `lookup` returns 32-byte hashes; a missing node throws {@link MissingNodeError}.
 * Tip: collect all ids first (`elements.flat()`), fetch them in one query, then look up in a `Map`.
 */
export function buildProof(elements: readonly ProofElement[], lookup: NodeLookup): Hash[] {
  return elements.map((element, i) => {
    const hashes = element.map(({ level, index }) => {
      const hash = lookup(level, index);
      if (hash === undefined) throw new MissingNodeError(level, index);
      assertHash(`node (${level}, ${index})`, hash);
      return hash;
    });
    const hash = foldRightToLeft(hashes);
    if (hash === undefined) throw new MerkleError(`proof element ${i} lists no nodes`);
    return hash;
  });
}
