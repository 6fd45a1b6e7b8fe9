import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAnchorProof } from '@fieldproof/keeper';
import { MemoryTree } from '@fieldproof/merkle';
import { createCosigner, generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import {
  BUNDLE_FORMAT,
  buildReceipt,
  encodeAnchorPayload,
  leafHashOf,
  verifyReceiptV2Offline,
  type AnchorProof,
  type EvidenceRecord,
  type ReceiptV2,
} from '@fieldproof/receipt';
import { Wallet, hexlify, type TransactionRequest } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../packages/keeper/src/chain/json-rpc-client.js';
import { tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, type HardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';

/**
 * fieldproof-receipt/v2 end to end on a real hardhat node (real headers, real transaction tries): a
 * device log's checkpoint anchored alone in a block, and three times in a block of 20 transactions (first,
 * middle, last); receipts built by the one builder, verified offline link by link; every byte of raw
 * transaction, trie proof and header mutated fails; the built CLI verifies with --rpc while the node runs
 * and with --trusted-blocks after it stopped; --witness-key good, missing and wrong.
 */
const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));
const ORIGIN = 'fieldproof.test/unit-v2';
const key = generateDeviceKey(ORIGIN);
const witness = createCosigner(generateDeviceKey('collector.test/w1'));
const otherWitness = createCosigner(generateDeviceKey('collector.test/w2'));
const records: EvidenceRecord[] = Array.from({ length: 7 }, (_, i) => ({
  id: `01930000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  digest: `${i}`.padStart(64, 'a'),
  kind: 'detection',
  occurredAt: 1_700_000_000_000 + i,
  receivedAt: 1_700_000_000_500 + i,
  payloadMime: null,
  metadata: i === 2 ? { band: 'L1' } : null,
}));
const tree = new MemoryTree();
tree.append(records.map((r) => leafHashOf(r)));
const note = signCheckpoint({ origin: ORIGIN, treeSize: records.length, root: tree.root() }, key);
const noteText = note.slice(0, note.indexOf('\n\n') + 1);
const calldata = hexlify(
  encodeAnchorPayload({ origin: ORIGIN, treeSize: records.length, root: tree.root() }),
);
const wallets = HARDHAT_ACCOUNTS.map((a) => new Wallet(a.privateKey));

let node: HardhatNode;
let rpc: JsonRpcClient;
let dir: string;
const nonces = new Map<string, number>();
/** Receipts by name: `only`, `first`, `middle`, `last`. */
const receipts = new Map<string, ReceiptV2>();
const blocks = new Set<string>();

async function sign(i: number, data: string): Promise<string> {
  const wallet = wallets[i % wallets.length]!;
  const nonce =
    nonces.get(wallet.address) ??
    Number(await node.rpc<string>('eth_getTransactionCount', [wallet.address, 'pending']));
  nonces.set(wallet.address, nonce + 1);
  const request: TransactionRequest = {
    chainId: node.chainId,
    nonce,
    to: HARDHAT_ACCOUNTS[(i + 1) % 4]!.address,
    data,
    gasLimit: 200_000n,
    type: 2,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
  };
  return wallet.signTransaction(request);
}

/** Mines one block of `count` transactions; those at `anchorAt` carry the checkpoint. Returns their raw bytes by position. */
async function mineBlock(
  count: number,
  anchorAt: readonly number[],
): Promise<Map<number, { raw: string; hash: string }>> {
  const sent = new Map<string, string>();
  await node.setAutomine(false);
  try {
    for (let i = 0; i < count; i++) {
      const data = anchorAt.includes(i) ? calldata : hexlify(new TextEncoder().encode(`other payload ${i}`));
      const raw = await sign(i, data);
      sent.set((await node.rpc<string>('eth_sendRawTransaction', [raw])).toLowerCase(), raw);
    }
    await node.mine();
  } finally {
    await node.setAutomine(true);
  }
  const block = await node.rpc<{ transactions: string[] }>('eth_getBlockByNumber', ['latest', false]);
  expect(block.transactions).toHaveLength(count);
  const out = new Map<number, { raw: string; hash: string }>();
  block.transactions.forEach((h, i) => {
    const raw = sent.get(h.toLowerCase())!;
    if (raw.length > 0 && calldataOf(raw)) out.set(i, { raw, hash: h.toLowerCase() });
  });
  return out;
}

function calldataOf(raw: string): boolean {
  return raw.includes(calldata.slice(2));
}

async function receiptOf(leafIndex: number, raw: string, hash: string, cosign = false): Promise<ReceiptV2> {
  const proof: AnchorProof = await buildAnchorProof(rpc, hash, { rawTx: raw });
  const header = await node.rpc<{ timestamp: string }>('eth_getBlockByNumber', [
    `0x${proof.blockNumber.toString(16)}`,
    false,
  ]);
  blocks.add(`${proof.chainId} ${proof.blockNumber} ${proof.blockHash}`);
  return buildReceipt({
    evidence: records[leafIndex]!,
    leafIndex,
    inclusionProof: tree.inclusionProof(leafIndex),
    checkpointNote: note,
    devicePublicKey: key.verifierKey,
    anchors: [
      {
        chain: 'local',
        chainId: node.chainId,
        txHash: hash,
        blockNumber: proof.blockNumber,
        blockHash: proof.blockHash,
        blockTimestamp: Number(header.timestamp) * 1000,
        state: 'final',
      },
    ],
    anchorProofs: [proof],
    cosignatures: cosign
      ? [{ witnessKey: witness.verifierKey, line: witness.cosign(noteText, 1_700_000_100).line }]
      : [],
  });
}

beforeAll(async () => {
  dir = tempDir('fieldproof-receipt-v2-');
  node = await startHardhatNode();
  rpc = new JsonRpcClient({ url: node.url, timeoutMs: 10_000 });
  const only = await mineBlock(1, [0]);
  receipts.set('only', await receiptOf(0, only.get(0)!.raw, only.get(0)!.hash, true));
  const many = await mineBlock(20, [0, 10, 19]);
  const positions = [...many.keys()].sort((a, b) => a - b);
  expect(positions).toHaveLength(3);
  const [first, middle, last] = positions.map((p) => many.get(p)!);
  receipts.set('first', await receiptOf(1, first!.raw, first!.hash));
  receipts.set('middle', await receiptOf(2, middle!.raw, middle!.hash));
  receipts.set('last', await receiptOf(6, last!.raw, last!.hash));
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

describe('fieldproof-receipt/v2 on a real chain', () => {
  it.each(['only', 'first', 'middle', 'last'])(
    'the anchor at the %s position verifies offline, link by link',
    (name) => {
      const receipt = receipts.get(name)!;
      const types = receipt.anchors[0]!.steps.map((s) => s.type);
      expect(types).toEqual(['anchor-tx', 'tx-trie', 'header', 'block']);
      const offline = verifyReceiptV2Offline(receipt);
      expect(offline.links.filter((l) => l.status !== 'ok').map((l) => `${l.status} ${l.link}`)).toEqual([
        'unchecked content',
        expect.stringMatching(/^unchecked canonical:31337:\d+$/),
      ]);
      const [line] = [...blocks].filter((b) =>
        b.includes(` ${(receipt.anchors[0]!.steps[3] as { number: number }).number} `),
      );
      const [chainId, number, hash] = line!.split(' ');
      const trusted = new Map([[`${chainId}:${number}`, hash!]]);
      const verified = verifyReceiptV2Offline(receipt, { trustedBlocks: trusted });
      expect(verified.links.filter((l) => l.status !== 'ok').map((l) => l.link)).toEqual(['content']);
      expect(verified.bracket).toMatchObject({ canonical: true, notAfter: { number: Number(number), hash } });
      const wrong = verifyReceiptV2Offline(receipt, {
        trustedBlocks: new Map([[`${chainId}:${number}`, `0x${'00'.repeat(32)}`]]),
      });
      expect(wrong.ok).toBe(false);
      expect(wrong.links.at(-1)).toMatchObject({ status: 'failed', link: `canonical:${chainId}:${number}` });
    },
  );

  it.each(['only', 'middle', 'last'])(
    'every byte of raw transaction, trie proof and header mutated fails (%s)',
    (name) => {
      const receipt = receipts.get(name)!;
      const [tx, trie, header, block] = receipt.anchors[0]!.steps as unknown as [
        { rawTx: string },
        { proof: string[] },
        { rawHeader: string },
        unknown,
      ];
      const withSteps = (steps: unknown[]) => ({ ...receipt, anchors: [{ ...receipt.anchors[0]!, steps }] });
      const fields: [string, string, (hex: string) => unknown][] = [
        ['rawTx', tx.rawTx, (h) => withSteps([{ ...tx, rawTx: h }, trie, header, block])],
        ['rawHeader', header.rawHeader, (h) => withSteps([tx, trie, { ...header, rawHeader: h }, block])],
        ...trie.proof.map(
          (node, n) =>
            [
              `txProof[${n}]`,
              node,
              (h: string) =>
                withSteps([
                  tx,
                  { ...trie, proof: trie.proof.map((p, j) => (j === n ? h : p)) },
                  header,
                  block,
                ]),
            ] as [string, string, (hex: string) => unknown],
        ),
      ];
      let mutations = 0;
      const started = performance.now();
      for (const [field, hex, rebuild] of fields) {
        for (let i = 2; i < hex.length; i += 2) {
          const byte = Number.parseInt(hex.slice(i, i + 2), 16) ^ 0x01;
          const mutated = `${hex.slice(0, i)}${byte.toString(16).padStart(2, '0')}${hex.slice(i + 2)}`;
          const v = verifyReceiptV2Offline(rebuild(mutated));
          if (v.ok) throw new Error(`${name}: byte ${(i - 2) / 2} of ${field} mutated still verifies`);
          mutations++;
        }
      }
      const ms = performance.now() - started;
      console.log(`[v2 byte sweep] ${name}: ${mutations} mutations refused in ${ms.toFixed(0)} ms`);
      expect(mutations).toBeGreaterThan(700);
    },
  );

  it('the built CLI: --rpc while the node runs, --witness-key good, missing and wrong; --trusted-blocks after it stopped', async () => {
    const files = new Map<string, string>();
    for (const [name, receipt] of receipts) {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify(receipt));
      files.set(name, file);
    }
    const bundle = path.join(dir, 'bundle.json');
    const list = [...receipts.values()];
    fs.writeFileSync(
      bundle,
      `{"format":"${BUNDLE_FORMAT}","createdAt":0,"log":{"origin":"${ORIGIN}","treeSize":7,"publicKey":"${key.verifierKey}"},"selection":{"since":null,"until":null,"kind":null},"receipts":[\n${list.map((r) => JSON.stringify(r)).join(',\n')}\n],"count":${list.length},"skipped":0}\n`,
    );
    const verify = (args: string[]) => runNode([BIN, 'verify', ...args], {}, { cwd: dir, timeoutMs: 60_000 });

    const online = await verify([files.get('only')!, '--rpc', node.url, '--rpc', node.url, '--json']);
    expect(online.code, online.stdout + online.stderr).toBe(0);
    const report = JSON.parse(online.stdout) as {
      links: { link: string; status: string; detail: string }[];
      bracket: unknown;
    };
    expect(report.links.filter((l) => l.status !== 'ok').map((l) => l.link)).toEqual(['content']);
    expect(report.links.find((l) => l.link.startsWith('canonical:'))?.detail).toMatch(
      /127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+: block \d+ of chain 31337 is 0x/,
    );
    expect(report.bracket).toMatchObject({ canonical: true });
    expect(typeof (report.bracket as { occurredOutsideByMs?: unknown }).occurredOutsideByMs).toBe('number');

    const good = await verify([files.get('only')!, '--witness-key', witness.verifierKey]);
    expect(good.code, good.stdout).toBe(0);
    expect(good.stdout).toMatch(/^ok {8}witness:collector\.test\/w1\+[0-9a-f]{8}: required witness/m);
    const missing = await verify([files.get('middle')!, '--witness-key', witness.verifierKey]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^failed {4}witness:.*no cosignature by this witness/m);
    const wrong = await verify([
      files.get('only')!,
      '--witness-key',
      witness.verifierKey,
      '--witness-key',
      otherWitness.verifierKey,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^failed {4}witness:collector\.test\/w2\+/m);

    const onlineBundle = await verify([bundle, '--rpc', node.url]);
    expect(onlineBundle.code, onlineBundle.stdout + onlineBundle.stderr).toBe(0);
    expect(onlineBundle.stdout).toMatch(/4 receipt\(s\), 4 verified, 0 failed; unchecked: content on 4/);

    await node.stop();
    const blocksFile = path.join(dir, 'blocks.txt');
    fs.writeFileSync(blocksFile, `# chainId number hash\n${[...blocks].join('\n')}\n`);
    const offline = await verify([files.get('last')!, '--trusted-blocks', blocksFile]);
    expect(offline.code, offline.stdout + offline.stderr).toBe(0);
    expect(offline.stdout).toMatch(
      /^ok {8}canonical:31337:\d+: the trusted block list lists 0x[0-9a-f]{64} as block \d+ of chain 31337$/m,
    );
    expect(offline.stdout).toMatch(
      /^time: {5}no later than block \d+ of chain 31337 \(.*\) \(the leaf names no earlier block\); occurredAt .* (inside|OUTSIDE)/m,
    );
    expect(offline.stdout).toMatch(/^verdict: VERIFIED — every requested check holds; unchecked: content$/m);
    console.log(`[v2 verify --trusted-blocks, node stopped]\n${offline.stdout}`);
    const offlineBundle = await verify([bundle, '--trusted-blocks', blocksFile]);
    expect(offlineBundle.code, offlineBundle.stdout).toBe(0);

    const unreachable = await verify([files.get('last')!, '--rpc', node.url]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toMatch(
      /^failed {4}canonical:31337:\d+: no reachable RPC URL serves chain 31337/m,
    );
    const none = await verify([files.get('last')!]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(
      /^unchecked canonical:31337:\d+: whether this block is canonical needs --trusted-blocks FILE or --rpc URL$/m,
    );
    fs.writeFileSync(path.join(dir, 'bad.txt'), '31337 12 nothex\n');
    const bad = await verify([files.get('last')!, '--trusted-blocks', 'bad.txt']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.txt:1: expected "chainId number hash"/);
  });
});
