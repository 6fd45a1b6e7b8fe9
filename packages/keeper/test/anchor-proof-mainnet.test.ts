import { readFileSync } from 'node:fs';
import { createMPT, createMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import {
  anchorProofFromBlock,
  encodeBlockHeader,
  type RpcBlock,
  type RpcTransaction,
} from '@fieldproof/keeper';
import {
  ANCHOR_PROOF_CHECKS,
  decodeBlockHeader,
  decodeTransactionEnvelope,
  trieProofValue,
  verifyAnchorProof,
  type AnchorProof,
} from '@fieldproof/receipt';
import { getBytes, hexlify, keccak256 } from 'ethers';
import { describe, expect, it } from 'vitest';
import { expectEveryByteMutationFails } from './anchor-proof-support.js';

type MainnetBlock = Omit<RpcBlock, 'transactions'> & {
  transactions: (RpcTransaction & { raw: string; to: string; input: string })[];
};

// A real mainnet block with its transactions (test/vectors/ethereum-mainnet/README.md): the header and
// trie encodings are checked against values no local node produced.
const block = JSON.parse(
  readFileSync(new URL('../../../test/vectors/ethereum-mainnet/block-2924874.json', import.meta.url), 'utf8'),
) as MainnetBlock;

describe('mainnet block 2 924 874 (pre-London)', () => {
  it('encodes the header from JSON to bytes that hash to the real block hash', () => {
    const rawHeader = encodeBlockHeader(block);
    expect(keccak256(rawHeader)).toBe('0xc596cb892b649b4917da8c6b78611346d55daf7bcf4375da86a2d98810888e84');
    const header = decodeBlockHeader(rawHeader);
    expect(header).toMatchObject({ number: 2_924_874, timestamp: 0x586afa54, fieldCount: 15 });
    expect(hexlify(header.transactionsRoot)).toBe(block.transactionsRoot);
  });

  it('rebuilds the real transactions root from the raw transactions', async () => {
    const trie = await createMPT();
    for (const [i, tx] of block.transactions.entries()) {
      expect(keccak256(tx.raw)).toBe(tx.hash);
      await trie.put(RLP.encode(i), getBytes(tx.raw));
    }
    expect(hexlify(trie.root())).toBe('0xe307e6d0e13f41ed336e09d71deb59a354eee4121449f0286cfb076e767fd45b');
  });

  // Transactions 0, 2 and 3 are EIP-155 signed (chain 1); 1 has v = 28, no chain id.
  it.each([0, 2, 3])('proves transaction %i, and every mutated byte fails', async (index) => {
    const tx = block.transactions[index]!;
    const proof = await anchorProofFromBlock(block, { chainId: 1, txHash: tx.hash });
    const verified = verifyAnchorProof(proof);
    const envelope = decodeTransactionEnvelope(getBytes(tx.raw));
    expect(verified).toMatchObject({
      chainId: 1,
      blockNumber: 2_924_874,
      blockTimestamp: 0x586afa54 * 1000,
      txIndex: index,
      txHash: tx.hash,
      txType: 0,
      to: envelope.to,
    });
    expect(verified.to).toBe(tx.to);
    expect(hexlify(verified.data)).toBe(tx.input);
    expectEveryByteMutationFails(proof);
  });

  it('refuses a transaction signed without a chain id, whose trie proof is still sound', async () => {
    const tx = block.transactions[1]!;
    await expect(anchorProofFromBlock(block, { chainId: 1, txHash: tx.hash })).rejects.toMatchObject({
      check: 'self-check',
      cause: { check: 'chain-id', reason: 'the transaction is signed without a chain id (pre-EIP-155)' },
    });
    expect(decodeTransactionEnvelope(getBytes(tx.raw)).chainId).toBeNull();
    const trie = await createMPT();
    for (const [i, t] of block.transactions.entries()) await trie.put(RLP.encode(i), getBytes(t.raw));
    const nodes = await createMerkleProof(trie, RLP.encode(1));
    const root = decodeBlockHeader(encodeBlockHeader(block)).transactionsRoot;
    expect(hexlify(trieProofValue(root, RLP.encode(1), nodes))).toBe(tx.raw);
  });

  it('is the example of docs/FORMATS.md', async () => {
    const proof = await anchorProofFromBlock(block, { chainId: 1, txHash: block.transactions[0]!.hash });
    const doc = readFileSync(new URL('../../../docs/FORMATS.md', import.meta.url), 'utf8');
    expect(doc).toContain(`\`\`\`json\n${JSON.stringify(proof, null, 2)}\n\`\`\``);
    // The checks, numbered in the order the verifier runs them.
    ANCHOR_PROOF_CHECKS.forEach((check, i) => expect(doc).toContain(`\n${i + 1}. \`${check}\` — `));
  });

  it('refuses unknown and missing fields', async () => {
    const proof = await anchorProofFromBlock(block, { chainId: 1, txHash: block.transactions[0]!.hash });
    expect(() => verifyAnchorProof({ ...proof, note: 'x' } as AnchorProof)).toThrow(
      /format: unknown field note/,
    );
    const { txIndex: _dropped, ...rest } = proof;
    expect(() => verifyAnchorProof(rest as AnchorProof)).toThrow(/format: missing txIndex/);
  });

  it('refuses the proof under another chain id', async () => {
    const proof = await anchorProofFromBlock(block, { chainId: 1, txHash: block.transactions[0]!.hash });
    expect(() => verifyAnchorProof({ ...proof, chainId: 5 })).toThrow(
      /chain-id: the transaction is for chain 1, not 5/,
    );
  });
});
