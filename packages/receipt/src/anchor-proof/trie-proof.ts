import { keccak_256 } from '@noble/hashes/sha3.js';
import { AnchorProofError } from './anchor-proof-error.js';
import { bytesEqual, decodeRlp, hex0x, rlpBytes, rlpList, type RlpItem } from './rlp-values.js';

/**
 * Merkle-Patricia-trie proof verification (yellow paper, Appendix D), written out rather than taken from
 * `@ethereumjs/mpt` so the offline verifier stays small and strict: every node must be reached, in order,
 * from the root, and nothing may follow the value.
 *
 * ```
 * root ══keccak══ node 0 ──branch[nibble] / extension──▶ keccak ══ node 1 … ──▶ leaf [path, value]
 * ```
 *
 * A child reference is the keccak256 of the child's RLP (32 bytes), or the child itself, inline, when
 * its RLP is shorter than 32 bytes. A proof lists the root and the hashed nodes only, as geth's
 * `eth_getProof` does; an inline node is read inside its parent. (`@ethereumjs/mpt`'s
 * `createMerkleProof` also lists inline nodes: drop those nodes of under 32 bytes after the first. A
 * transactions trie never has any — every value is a signed transaction, longer than 32 bytes.)
 */

const BRANCH_LENGTH = 17;

/**
 * The value stored under `key` in the trie with root hash `root`, as proven by `proof` (the RLP nodes
 * from the root down). Throws `AnchorProofError` (`tx-proof`) when a node does not hash to its
 * reference, the proof is malformed, incomplete or too long, or it proves the key absent.
 */
export function trieProofValue(root: Uint8Array, key: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  const nibbles = nibblesOf(key);
  let consumed = 0;
  let reference = root;
  for (let i = 0; i < proof.length; i++) {
    const encoded = proof[i]!;
    if (!bytesEqual(keccak_256(encoded), reference)) {
      throw fail(
        i === 0
          ? `proof node 0 does not hash to the root ${hex0x(root)}`
          : `proof node ${i} does not hash to the reference in node ${i - 1}`,
      );
    }
    let node = nodeOf(decodeRlp(encoded, 'tx-proof', `proof node ${i}`), i);
    for (;;) {
      let child: RlpItem;
      if (node.length === BRANCH_LENGTH) {
        if (consumed === nibbles.length)
          return lastValue(rlpBytes(node[16], 'tx-proof', 'a branch value'), i, proof);
        child = node[nibbles[consumed++]!]!;
      } else {
        const { path, leaf } = decodeHexPrefix(
          rlpBytes(node[0], 'tx-proof', `the path in proof node ${i}`),
          i,
        );
        if (!startsWith(nibbles, consumed, path))
          throw fail(`the proof shows that key ${hex0x(key)} is absent`);
        consumed += path.length;
        if (leaf) {
          if (consumed !== nibbles.length) throw fail(`the proof shows that key ${hex0x(key)} is absent`);
          return lastValue(rlpBytes(node[1], 'tx-proof', `the leaf value in proof node ${i}`), i, proof);
        }
        child = node[1]!;
      }
      if (Array.isArray(child)) {
        node = nodeOf(child, i); // an inline child: the walk goes on inside this proof node
        continue;
      }
      if (child.length === 0) throw fail(`the proof shows that key ${hex0x(key)} is absent`);
      if (child.length !== 32) throw fail(`a child reference in proof node ${i} is ${child.length} bytes`);
      reference = child;
      break;
    }
  }
  throw fail(`the proof ends after ${proof.length} nodes without reaching key ${hex0x(key)}`);
}

function lastValue(value: Uint8Array, index: number, proof: readonly Uint8Array[]): Uint8Array {
  if (index !== proof.length - 1) throw fail(`${proof.length - 1 - index} proof nodes follow the value`);
  if (value.length === 0) throw fail('the proof reaches an empty value');
  return value;
}

function nodeOf(item: RlpItem, index: number): RlpItem[] {
  const node = rlpList(item, 'tx-proof', `proof node ${index}`);
  if (node.length !== BRANCH_LENGTH && node.length !== 2) {
    throw fail(`proof node ${index} has ${node.length} items, expected 17 (branch) or 2 (leaf, extension)`);
  }
  return node;
}

/** Hex-prefix encoding (yellow paper, Appendix C): flag nibble 0/1 extension, 2/3 leaf; odd/even length. */
function decodeHexPrefix(encoded: Uint8Array, index: number): { path: number[]; leaf: boolean } {
  const all = nibblesOf(encoded);
  const flag = all[0];
  if (flag === undefined || flag > 3) throw fail(`proof node ${index} has a bad hex-prefix path`);
  const odd = (flag & 1) === 1;
  if (!odd && all[1] !== 0) throw fail(`proof node ${index} has a bad hex-prefix path`);
  return { path: all.slice(odd ? 1 : 2), leaf: flag >= 2 };
}

function nibblesOf(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (const b of bytes) out.push(b >> 4, b & 0x0f);
  return out;
}

function startsWith(nibbles: readonly number[], from: number, path: readonly number[]): boolean {
  if (from + path.length > nibbles.length) return false;
  return path.every((n, i) => nibbles[from + i] === n);
}

function fail(reason: string): AnchorProofError {
  return new AnchorProofError('tx-proof', reason);
}
