import { createMPT, createMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import { Wallet, hexlify, keccak256, type TransactionRequest } from 'ethers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AnchorProofError,
  decodeBlockHeader,
  decodeTransactionEnvelope,
  trieProofValue,
} from '../src/index.js';

// The offline verifier's parts on their own. End-to-end proofs from real blocks (hardhat, mainnet) are
// in packages/keeper/test/anchor-proof*.test.ts, where the builder lives.

describe('trieProofValue against @ethereumjs/mpt', () => {
  // Short keys and values make inline (< 32-byte) nodes and branch values, which transaction tries
  // never have: the walk must still agree with an independent implementation on every trie shape.
  const entries = fc.uniqueArray(
    fc.record({
      key: fc.uint8Array({ minLength: 1, maxLength: 4 }),
      value: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    }),
    { minLength: 1, maxLength: 40, selector: (e) => hexlify(e.key) },
  );

  it('proves every present key to its value and refuses every absent key', async () => {
    await fc.assert(
      fc.asyncProperty(entries, fc.uint8Array({ minLength: 1, maxLength: 4 }), async (kvs, probe) => {
        const trie = await createMPT();
        for (const { key, value } of kvs) await trie.put(key, value);
        const root = trie.root();
        for (const { key, value } of kvs) {
          const proof = hashedNodes(await createMerkleProof(trie, key));
          expect(hexlify(trieProofValue(root, key, proof))).toBe(hexlify(value));
        }
        if (!kvs.some((e) => hexlify(e.key) === hexlify(probe))) {
          const proof = hashedNodes(await createMerkleProof(trie, probe));
          expect(() => trieProofValue(root, probe, proof)).toThrow(AnchorProofError);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses an empty proof and a proof for another root', async () => {
    const trie = await createMPT();
    await trie.put(RLP.encode(0), new Uint8Array(100).fill(7));
    const proof = await createMerkleProof(trie, RLP.encode(0));
    expect(() => trieProofValue(trie.root(), RLP.encode(0), [])).toThrow(/the proof ends after 0 nodes/);
    expect(() => trieProofValue(new Uint8Array(32), RLP.encode(0), proof)).toThrow(
      /does not hash to the root/,
    );
  });
});

describe('decodeTransactionEnvelope', () => {
  const wallet = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
  const to = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';
  const data = '0x46504131deadbeef';
  const common = { nonce: 3, to, data, gasLimit: 50_000n, value: 1n };
  const fees = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n };

  it.each<[string, TransactionRequest, number]>([
    ['legacy, EIP-155', { ...common, type: 0, chainId: 11155111, gasPrice: 10n ** 9n }, 0],
    [
      'EIP-2930',
      {
        ...common,
        type: 1,
        chainId: 10,
        gasPrice: 10n ** 9n,
        accessList: [{ address: to, storageKeys: [] }],
      },
      1,
    ],
    ['EIP-1559', { ...common, type: 2, chainId: 1, ...fees }, 2],
    [
      'EIP-4844',
      {
        ...common,
        type: 3,
        chainId: 1,
        ...fees,
        maxFeePerBlobGas: 1n,
        blobVersionedHashes: [`0x01${'ab'.repeat(31)}`],
      },
      3,
    ],
    ['EIP-7702', { ...common, type: 4, chainId: 137, ...fees, authorizationList: [] }, 4],
  ])('reads to, data and chain id from a %s transaction', async (_name, request, type) => {
    const raw = await wallet.signTransaction(request);
    const tx = decodeTransactionEnvelope(Uint8Array.from(Buffer.from(raw.slice(2), 'hex')));
    expect(tx).toMatchObject({ type, chainId: BigInt(request.chainId!), to });
    expect(hexlify(tx.data)).toBe(data);
  });

  it('reads a contract creation as to = null, and refuses what is no transaction', async () => {
    const raw = await wallet.signTransaction({ ...common, to: null, type: 2, chainId: 1, ...fees });
    expect(decodeTransactionEnvelope(bytes(raw)).to).toBeNull();
    expect(() => decodeTransactionEnvelope(new Uint8Array())).toThrow(/tx: the transaction is empty/);
    expect(() => decodeTransactionEnvelope(bytes('0x05c0'))).toThrow(/tx: unknown transaction type 5/);
    expect(() => decodeTransactionEnvelope(bytes('0x02c0'))).toThrow(/has 0 fields, expected 12/);
    expect(() => decodeTransactionEnvelope(bytes(raw + '00'))).toThrow(
      /tx: the type-2 transaction is not valid RLP/,
    );
  });
});

describe('decodeBlockHeader', () => {
  const fields = (n: number) =>
    Array.from({ length: n }, (_, i) => (i === 4 ? new Uint8Array(32) : new Uint8Array([i])));

  it('reads transactionsRoot, number and timestamp from any fork’s field count', () => {
    for (const n of [15, 16, 17, 20, 21, 22]) {
      expect(decodeBlockHeader(RLP.encode(fields(n)))).toMatchObject({
        number: 8,
        timestamp: 11,
        fieldCount: n,
      });
    }
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['too few fields', RLP.encode(fields(14)), /14 fields, at least 15/],
    ['a string', RLP.encode(new Uint8Array(3)), /is an RLP string, expected a list/],
    [
      'a short root',
      RLP.encode(fields(15).map((f, i) => (i === 4 ? new Uint8Array(31) : f))),
      /transactionsRoot is 31 bytes/,
    ],
    [
      'a nested list',
      RLP.encode(fields(15).map((f, i) => (i === 2 ? [f] : f))),
      /header field 2 is an RLP list/,
    ],
    [
      'a padded number',
      RLP.encode(fields(15).map((f, i) => (i === 8 ? new Uint8Array([0, 1]) : f))),
      /leading zero/,
    ],
    ['trailing bytes', Uint8Array.from([...RLP.encode(fields(15)), 0]), /not valid RLP/],
  ])('refuses %s', (_name, raw, message) => {
    expect(() => decodeBlockHeader(raw)).toThrow(message);
  });
});

/** The proof as the format has it: the root, then hashed nodes only (mpt also lists inline ones). */
function hashedNodes(proof: Uint8Array[]): Uint8Array[] {
  return proof.filter((node, i) => i === 0 || node.length >= 32);
}

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}

// keccak256 from ethers and @noble agree on the empty input (a smoke check for the import path).
it('keccak256 of nothing', () => {
  expect(keccak256('0x')).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
});
