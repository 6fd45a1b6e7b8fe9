import {
  AnchorProofError,
  verifyAnchorProof,
  type AnchorProof,
  type AnchorProofCheck,
} from '@fieldproof/receipt';
import { getBytes, hexlify } from 'ethers';
import { expect } from 'vitest';

/** Bytes of an anchor proof as stored: header, each trie node, transaction. */
export function proofSizes(proof: AnchorProof): {
  header: number;
  txProof: number;
  nodes: number;
  rawTx: number;
} {
  const size = (hex: string) => (hex.length - 2) / 2;
  return {
    header: size(proof.rawHeader),
    txProof: proof.txProof.reduce((sum, node) => sum + size(node), 0),
    nodes: proof.txProof.length,
    rawTx: size(proof.rawTx),
  };
}

/**
 * Flips each byte of the header, of every proof node and of the raw transaction, one at a time (two
 * ways: the low bit and the high bit), and requires each variant to be refused by the check that owns
 * those bytes. Returns how many variants were tried.
 */
export function expectEveryByteMutationFails(proof: AnchorProof): number {
  let tried = 0;
  const mutate = (hex: string, check: AnchorProofCheck, rebuild: (mutated: string) => AnchorProof) => {
    const bytes = getBytes(hex);
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const copy = new Uint8Array(bytes);
        copy[i]! ^= mask;
        tried++;
        let error: unknown;
        try {
          verifyAnchorProof(rebuild(hexlify(copy)));
        } catch (err) {
          error = err;
        }
        if (!(error instanceof AnchorProofError) || error.check !== check) {
          expect.fail(
            `byte ${i} ^ ${mask} of ${check === 'header-hash' ? 'rawHeader' : 'the proof'} gave ${String(error)}`,
          );
        }
      }
    }
  };
  mutate(proof.rawHeader, 'header-hash', (rawHeader) => ({ ...proof, rawHeader }));
  proof.txProof.forEach((node, n) =>
    mutate(node, 'tx-proof', (mutated) => ({
      ...proof,
      txProof: proof.txProof.map((x, j) => (j === n ? mutated : x)),
    })),
  );
  mutate(proof.rawTx, 'tx-proof', (rawTx) => ({ ...proof, rawTx }));
  return tried;
}
