import { createMPT, createMerkleProof, verifyMerkleProof } from '@ethereumjs/mpt';
import { RLP } from '@ethereumjs/rlp';
import {
  AnchorProofBuildError,
  HeaderEncodingError,
  anchorProofFromBlock,
  buildAnchorProof,
  encodeBlockHeader,
  rawTransactionOf,
  type RpcBlock,
} from '@fieldproof/keeper';
import {
  decodeBlockHeader,
  encodeAnchorPayload,
  trieProofValue,
  verifyAnchorProof,
  type AnchorProof,
} from '@fieldproof/receipt';
import { Wallet, getBytes, hexlify, keccak256, type TransactionRequest } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../src/chain/json-rpc-client.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, type HardhatNode } from '../../../test/support/hardhat.js';
import { expectEveryByteMutationFails, proofSizes } from './anchor-proof-support.js';

// Anchor proofs against a real hardhat node (default hardfork: a 21-field Prague header), built by
// the keeper's builder from JSON-RPC and checked by the offline verifier.

let node: HardhatNode;
let rpc: JsonRpcClient;
const wallets = HARDHAT_ACCOUNTS.map((a) => new Wallet(a.privateKey));
const nonces = new Map<string, number>();
/** Proof sizes seen, for the report: `${txCount}/${position}` → bytes. */
const sizes: Record<string, ReturnType<typeof proofSizes>> = {};

interface MinedBlock {
  readonly number: number;
  /** Our signed bytes, in block order. */
  readonly raws: readonly string[];
  readonly hashes: readonly string[];
}

beforeAll(async () => {
  node = await startHardhatNode();
  rpc = new JsonRpcClient({ url: node.url, timeoutMs: 10_000 });
});

afterAll(async () => {
  console.log('[anchor-proof sizes, bytes]', JSON.stringify(sizes));
  await node?.stop();
});

/** Signs and sends `count` transactions (EIP-1559, legacy EIP-155 and EIP-2930 in turn, from four
 * senders), mines them into one block and returns them in block order. */
async function mineBlockOf(count: number, target: HardhatNode = node): Promise<MinedBlock> {
  const sent = new Map<string, string>();
  await target.setAutomine(false);
  try {
    for (let i = 0; i < count; i++) {
      const wallet = wallets[i % wallets.length]!;
      const key = `${target.url}/${wallet.address}`;
      const nonce =
        nonces.get(key) ??
        Number(await target.rpc<string>('eth_getTransactionCount', [wallet.address, 'pending']));
      nonces.set(key, nonce + 1);
      const raw = await wallet.signTransaction(requestOf(i, nonce, target.chainId));
      const hash = await target.rpc<string>('eth_sendRawTransaction', [raw]);
      sent.set(hash.toLowerCase(), raw);
    }
    await target.mine();
  } finally {
    await target.setAutomine(true);
  }
  const block = await target.rpc<RpcBlock>('eth_getBlockByNumber', ['latest', true]);
  const hashes = block.transactions.map((tx) => (typeof tx === 'string' ? tx : tx.hash).toLowerCase());
  expect(hashes).toHaveLength(count);
  return {
    number: Number(block.number),
    hashes,
    raws: hashes.map((h) => sent.get(h)!),
  };

  function requestOf(i: number, nonce: number, chainId: number): TransactionRequest {
    // Calldata of varied length, like FPA1 payloads of different origins.
    const data = hexlify(
      encodeAnchorPayload({
        origin: `fieldproof.test/unit-${i}${'x'.repeat(i % 40)}`,
        treeSize: i + 1,
        root: new Uint8Array(32).fill(i % 256),
      }),
    );
    const base = { chainId, nonce, to: HARDHAT_ACCOUNTS[(i + 1) % 4]!.address, data, gasLimit: 100_000n };
    switch (i % 3) {
      case 0:
        return { ...base, type: 2, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n };
      case 1:
        return { ...base, type: 0, gasPrice: 10n ** 10n };
      default:
        return { ...base, type: 1, gasPrice: 10n ** 10n, accessList: [] };
    }
  }
}

function positions(count: number): [string, number][] {
  return count === 1
    ? [['only', 0]]
    : [
        ['first', 0],
        ['middle', Math.floor(count / 2)],
        ['last', count - 1],
      ];
}

describe.each([1, 20, 200])('a block of %i transactions', (count) => {
  let mined: MinedBlock;
  beforeAll(async () => {
    mined = await mineBlockOf(count);
  }, 120_000);

  it.each(positions(count))(
    'proves the anchor at the %s position; every mutated byte fails',
    async (name, index) => {
      const proof = await buildAnchorProof(rpc, mined.hashes[index]!, { rawTx: mined.raws[index]! });
      expect(proof).toMatchObject({ chainId: node.chainId, blockNumber: mined.number, txIndex: index });
      expect(proof.rawTx).toBe(mined.raws[index]);
      expect(JSON.parse(JSON.stringify(proof))).toEqual(proof); // plain JSON

      const verified = verifyAnchorProof(proof);
      const header = await node.rpc<{ hash: string; timestamp: string }>('eth_getBlockByNumber', [
        `0x${mined.number.toString(16)}`,
        false,
      ]);
      expect(verified.blockHash).toBe(header.hash);
      expect(verified.blockTimestamp).toBe(Number(header.timestamp) * 1000);
      expect(verified.txHash).toBe(mined.hashes[index]);
      const tx = await node.rpc<{ to: string; input: string }>('eth_getTransactionByHash', [
        mined.hashes[index],
      ]);
      expect(verified.to).toBe(tx.to.toLowerCase());
      expect(hexlify(verified.data)).toBe(tx.input);
      expect(decodeBlockHeader(getBytes(proof.rawHeader)).fieldCount).toBe(21);

      // Without our bytes the builder re-serialises the transaction from JSON: the same proof.
      expect(await buildAnchorProof(rpc, mined.hashes[index]!)).toEqual(proof);

      sizes[`${count}/${name}`] = proofSizes(proof);
      expect(expectEveryByteMutationFails(proof)).toBeGreaterThan(2 * 600);
    },
  );

  it('re-serialises every transaction from the block JSON to its signed bytes', async () => {
    const block = await node.rpc<RpcBlock>('eth_getBlockByNumber', [`0x${mined.number.toString(16)}`, true]);
    block.transactions.forEach((tx, i) => {
      if (typeof tx === 'string') throw new Error('full transactions expected');
      expect(hexlify(rawTransactionOf(tx))).toBe(mined.raws[i]);
    });
  });
});

describe('a proof checked against something else', () => {
  let a: AnchorProof;
  let b: AnchorProof;
  beforeAll(async () => {
    const first = await mineBlockOf(20);
    const second = await mineBlockOf(20);
    a = await buildAnchorProof(rpc, first.hashes[7]!);
    b = await buildAnchorProof(rpc, second.hashes[7]!);
  }, 60_000);

  it('fails against another block’s header and root', () => {
    // The same index in a block of the same shape: only the root ties the proof to its block.
    expect(() =>
      verifyAnchorProof({ ...a, blockNumber: b.blockNumber, blockHash: b.blockHash, rawHeader: b.rawHeader }),
    ).toThrow(/tx-proof: proof node 0 does not hash to the root/);
    const rootOfB = decodeBlockHeader(getBytes(b.rawHeader)).transactionsRoot;
    expect(() =>
      trieProofValue(
        rootOfB,
        RLP.encode(7),
        a.txProof.map((n) => getBytes(n)),
      ),
    ).toThrow(/does not hash to the root/);
  });

  it('shows why the root must be passed to @ethereumjs/mpt: without it any self-made proof verifies', async () => {
    const nodes = a.txProof.map((n) => getBytes(n));
    expect(hexlify((await verifyMerkleProof(RLP.encode(7), nodes))!)).toBe(a.rawTx);
    const rootOfB = decodeBlockHeader(getBytes(b.rawHeader)).transactionsRoot;
    await expect(verifyMerkleProof(RLP.encode(7), nodes, { root: rootOfB })).rejects.toThrow();
    const rootOfA = decodeBlockHeader(getBytes(a.rawHeader)).transactionsRoot;
    expect(hexlify((await verifyMerkleProof(RLP.encode(7), nodes, { root: rootOfA }))!)).toBe(a.rawTx);
  });

  it('fails for another index, another transaction, extra nodes, a missing node or a block number', () => {
    expect(() => verifyAnchorProof({ ...a, txIndex: 8 })).toThrow(/tx-proof/);
    expect(() => verifyAnchorProof({ ...a, rawTx: b.rawTx })).toThrow(/tx-proof: the trie holds other bytes/);
    expect(() => verifyAnchorProof({ ...a, txProof: [...a.txProof, a.txProof.at(-1)!] })).toThrow(
      /tx-proof: 1 proof nodes follow the value/,
    );
    expect(() => verifyAnchorProof({ ...a, txProof: a.txProof.slice(0, -1) })).toThrow(
      /tx-proof: the proof ends/,
    );
    expect(() => verifyAnchorProof({ ...a, blockNumber: a.blockNumber + 1 })).toThrow(/block-number/);
    expect(() => verifyAnchorProof({ ...a, chainId: 1 })).toThrow(
      /chain-id: the transaction is for chain 31337/,
    );
    expect(() =>
      verifyAnchorProof({ ...a, rawHeader: a.rawHeader.toUpperCase().replace('0X', '0x') }),
    ).toThrow(/format: rawHeader/);
  });

  it('refuses a valid proof of absence', async () => {
    const block = await node.rpc<RpcBlock>('eth_getBlockByNumber', [`0x${a.blockNumber.toString(16)}`, true]);
    const trie = await createMPT();
    for (const [i, tx] of block.transactions.entries()) {
      if (typeof tx !== 'string') await trie.put(RLP.encode(i), rawTransactionOf(tx));
    }
    const absent = await createMerkleProof(trie, RLP.encode(20));
    expect(await verifyMerkleProof(RLP.encode(20), absent, { root: trie.root() })).toBeNull();
    expect(() => verifyAnchorProof({ ...a, txIndex: 20, txProof: absent.map((n) => hexlify(n)) })).toThrow(
      /tx-proof: the proof shows that key 0x14 is absent/,
    );
  });
});

describe('the builder refuses rather than guesses', () => {
  let mined: MinedBlock;
  let block: RpcBlock;
  beforeAll(async () => {
    mined = await mineBlockOf(5);
    block = await node.rpc<RpcBlock>('eth_getBlockByNumber', [`0x${mined.number.toString(16)}`, true]);
  });
  const target = () => ({ chainId: node.chainId, txHash: mined.hashes[2]! });

  it('builds from the untouched JSON', async () => {
    expect(verifyAnchorProof(await anchorProofFromBlock(block, target())).txIndex).toBe(2);
  });

  it.each<[string, (b: Record<string, unknown>) => void]>([
    ['gasUsed off by one', (b) => (b.gasUsed = `0x${(Number(b.gasUsed) + 1).toString(16)}`)],
    ['extraData changed', (b) => (b.extraData = '0x01')],
    ['the Prague field dropped', (b) => delete b.requestsHash],
    [
      'the optional fields dropped (a London-less header)',
      (b) => {
        for (const f of [
          'baseFeePerGas',
          'withdrawalsRoot',
          'blobGasUsed',
          'excessBlobGas',
          'parentBeaconBlockRoot',
          'requestsHash',
        ])
          delete b[f];
      },
    ],
    ['a zero nonce written short', (b) => (b.nonce = '0x00')],
    ['a transactionsRoot of another block', (b) => (b.transactionsRoot = keccak256('0x01'))],
  ])('a header whose hash does not match: %s', async (_name, tamper) => {
    const copy = structuredClone(block) as unknown as Record<string, unknown>;
    tamper(copy);
    await expect(anchorProofFromBlock(copy as unknown as RpcBlock, target())).rejects.toMatchObject({
      check: 'header-hash',
      expected: block.hash,
    });
  });

  it('a header with a gap in its optional fields', () => {
    const copy = { ...block, withdrawalsRoot: undefined };
    expect(() => encodeBlockHeader(copy)).toThrow(HeaderEncodingError);
    expect(() => encodeBlockHeader(copy)).toThrow(/withdrawalsRoot is missing but requestsHash is present/);
  });

  it('a transaction that re-serialises to other bytes, a missing transaction, wrong own bytes', async () => {
    const tampered = structuredClone(block);
    (tampered.transactions[4] as { value: string }).value = '0x1';
    await expect(anchorProofFromBlock(tampered, target())).rejects.toMatchObject({
      check: 'transaction-hash',
    });

    const fewer = { ...block, transactions: block.transactions.slice(0, 4) };
    await expect(anchorProofFromBlock(fewer, target())).rejects.toMatchObject({ check: 'transactions-root' });

    await expect(anchorProofFromBlock(block, { ...target(), rawTx: mined.raws[3]! })).rejects.toMatchObject({
      check: 'raw-tx',
    });
    await expect(
      anchorProofFromBlock(block, { ...target(), txHash: keccak256('0x02') }),
    ).rejects.toMatchObject({
      check: 'not-in-block',
    });
  });

  it('a transaction not yet mined', async () => {
    await node.setAutomine(false);
    try {
      const wallet = wallets[3]!;
      const raw = await wallet.signTransaction({
        type: 2,
        chainId: node.chainId,
        nonce: Number(await node.rpc<string>('eth_getTransactionCount', [wallet.address, 'pending'])),
        to: wallet.address,
        gasLimit: 21_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      });
      const hash = await node.rpc<string>('eth_sendRawTransaction', [raw]);
      const err = await buildAnchorProof(rpc, hash).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AnchorProofBuildError);
      expect(err).toMatchObject({ check: 'not-mined' });
      await node.mine();
      nonces.delete(`${node.url}/${wallet.address}`);
    } finally {
      await node.setAutomine(true);
    }
  });
});

describe('other envelopes and forks', () => {
  it('proves an EIP-7702 transaction (authorization list) re-serialised from JSON', async () => {
    const [sender, delegator] = [wallets[0]!, wallets[2]!];
    const senderNonce = Number(
      await node.rpc<string>('eth_getTransactionCount', [sender.address, 'pending']),
    );
    const delegatorNonce = Number(
      await node.rpc<string>('eth_getTransactionCount', [delegator.address, 'pending']),
    );
    const authorization = await delegator.authorize({
      address: HARDHAT_ACCOUNTS[3].address,
      nonce: delegatorNonce,
      chainId: node.chainId,
    });
    const raw = await sender.signTransaction({
      type: 4,
      chainId: node.chainId,
      nonce: senderNonce,
      to: delegator.address,
      data: '0x46504131',
      gasLimit: 100_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 10n ** 9n,
      authorizationList: [authorization],
    });
    const hash = await node.rpc<string>('eth_sendRawTransaction', [raw]);
    nonces.clear();
    const proof = await buildAnchorProof(rpc, hash);
    expect(proof.rawTx).toBe(raw);
    expect(verifyAnchorProof(proof)).toMatchObject({ txType: 4, to: delegator.address.toLowerCase() });
  });

  it.each([
    ['london', 16],
    ['shanghai', 17],
    ['cancun', 20],
  ])('encodes a %s header (%i fields) that hashes to the block hash', async (hardfork, fields) => {
    const forkNode = await startHardhatNode({ hardfork, chainId: 31338 });
    try {
      const mined = await mineBlockOf(3, forkNode);
      const forkRpc = new JsonRpcClient({ url: forkNode.url, timeoutMs: 10_000 });
      const proof = await buildAnchorProof(forkRpc, mined.hashes[1]!);
      expect(decodeBlockHeader(getBytes(proof.rawHeader)).fieldCount).toBe(fields);
      expect(verifyAnchorProof(proof)).toMatchObject({ chainId: 31338, txIndex: 1 });
    } finally {
      await forkNode.stop();
    }
  });
});
