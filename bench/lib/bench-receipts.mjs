// Receipts v2 against v1 (issue 14): the same records of one signed checkpoint, anchored on a real hardhat
// node (the anchor the middle of a block of 20 transactions, its proof built by the keeper's builder),
// written as fieldproof-receipt/v1 (anchor as a claim) and /v2 (raw transaction, trie proof, header, one
// witness cosignature). Measured: JSON size of each and what the anchor proof adds, and the offline verify
// rate of each (v2 with every step checked, canonicality from a one-line trusted block list).
import { buildAnchorProof } from '@fieldproof/keeper';
import { MemoryTree } from '@fieldproof/merkle';
import { createCosigner, generateDeviceKey, signCheckpoint } from '@fieldproof/note';
import {
  buildReceipt,
  encodeAnchorPayload,
  leafHashOf,
  verifyReceiptOffline,
  verifyReceiptV2Offline,
} from '@fieldproof/receipt';
import { Wallet, hexlify } from 'ethers';
import { JsonRpcClient } from '../../packages/keeper/dist/chain/json-rpc-client.js';
import { startHardhat } from './bench-anchoring.mjs';
import { ratio } from './report.mjs';

const ORIGIN = 'fieldproof.bench/unit-1';
const KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
];

async function rpc(url, method, params = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/**
 * @param {import('./report.mjs').Report} report
 * @param {{ records: number, blockTxs: number }} size
 */
export async function benchReceipts(report, size) {
  const key = generateDeviceKey(ORIGIN);
  const witness = createCosigner(generateDeviceKey('collector.bench/w1'));
  const records = Array.from({ length: size.records }, (_, i) => ({
    id: `0193aaaa-0000-7000-8000-${String(i).padStart(12, '0')}`,
    digest: (i + 1).toString(16).padStart(64, '0'),
    kind: 'detection',
    occurredAt: 1_700_000_000_000 + i,
    receivedAt: 1_700_000_000_100 + i,
    payloadMime: null,
    metadata: null,
  }));
  const tree = new MemoryTree();
  tree.append(records.map((r) => leafHashOf(r)));
  const root = tree.root();
  const note = signCheckpoint({ origin: ORIGIN, treeSize: records.length, root }, key);
  const noteText = note.slice(0, note.indexOf('\n\n') + 1);

  const { child, url } = await startHardhat();
  try {
    const chainId = Number(await rpc(url, 'eth_chainId'));
    const wallets = KEYS.map((k) => new Wallet(k));
    const anchorAt = Math.floor(size.blockTxs / 2);
    await rpc(url, 'evm_setAutomine', [false]);
    const raws = new Map();
    const nonces = new Map();
    for (let i = 0; i < size.blockTxs; i++) {
      const wallet = wallets[i % wallets.length];
      const nonce =
        nonces.get(wallet.address) ??
        Number(await rpc(url, 'eth_getTransactionCount', [wallet.address, 'pending']));
      nonces.set(wallet.address, nonce + 1);
      const data =
        i === anchorAt
          ? hexlify(encodeAnchorPayload({ origin: ORIGIN, treeSize: records.length, root }))
          : hexlify(new TextEncoder().encode(`other ${i}`));
      const raw = await wallet.signTransaction({
        chainId,
        nonce,
        to: wallets[(i + 1) % wallets.length].address,
        data,
        gasLimit: 100_000n,
        type: 2,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      });
      raws.set((await rpc(url, 'eth_sendRawTransaction', [raw])).toLowerCase(), {
        raw,
        anchor: i === anchorAt,
      });
    }
    await rpc(url, 'evm_mine');
    await rpc(url, 'evm_setAutomine', [true]);
    const [txHash, { raw }] = [...raws].find(([, v]) => v.anchor);
    const proof = await buildAnchorProof(new JsonRpcClient({ url, timeoutMs: 10_000 }), txHash, {
      rawTx: raw,
    });
    const block = await rpc(url, 'eth_getBlockByNumber', [`0x${proof.blockNumber.toString(16)}`, false]);
    const anchor = {
      chain: 'local',
      chainId,
      txHash,
      blockNumber: proof.blockNumber,
      blockHash: proof.blockHash,
      blockTimestamp: Number(block.timestamp) * 1000,
      state: 'final',
    };
    const cosignature = {
      witnessKey: witness.verifierKey,
      line: witness.cosign(noteText, 1_700_000_200).line,
    };
    const parts = (i) => ({
      evidence: records[i],
      leafIndex: i,
      inclusionProof: tree.inclusionProof(i),
      checkpointNote: note,
      devicePublicKey: key.verifierKey,
      anchors: [anchor],
    });
    const v1 = records.map((_, i) => buildReceipt({ ...parts(i), format: 'fieldproof-receipt/v1' }));
    const v2 = records.map((_, i) =>
      buildReceipt({ ...parts(i), anchorProofs: [proof], cosignatures: [cosignature] }),
    );
    const v2Bare = buildReceipt({ ...parts(0), anchors: [] });
    const bytes = (r) => Buffer.byteLength(JSON.stringify(r));
    const mean = (list) => list.reduce((a, r) => a + bytes(r), 0) / list.length;
    const v1Size = mean(v1);
    const v2Size = mean(v2);
    const proofBytes = bytes(v2[0].anchors[0]) - bytes(buildReceipt({ ...parts(0) }).anchors[0]);
    const trusted = new Map([[`${chainId}:${proof.blockNumber}`, proof.blockHash]]);
    for (const r of v2)
      if (!verifyReceiptV2Offline(r, { trustedBlocks: trusted }).ok)
        throw new Error('a v2 receipt did not verify');
    const rate = (list, fn) => {
      const start = performance.now();
      for (const r of list) if (!fn(r).ok) throw new Error('a receipt did not verify');
      return list.length / ((performance.now() - start) / 1000);
    };
    const v1Rate = rate(v1, (r) => verifyReceiptOffline(r));
    const v2Rate = rate(v2, (r) =>
      verifyReceiptV2Offline(r, { trustedBlocks: trusted, witnessKeys: [witness.verifierKey] }),
    );
    report.add({
      section: 'receipts v2',
      measure: 'receipt size, mean (JSON bytes)',
      value: v2Size,
      unit: 'bytes (v2)',
      peer: 'fieldproof-receipt/v1, same records',
      peerValue: v1Size,
      peerUnit: 'bytes',
      ratio: ratio(v2Size, v1Size),
      target: 'proof adds ≤ 4 KB',
      met: proofBytes <= 4096,
      note: `the anchor proof adds ${proofBytes} bytes (header ${(proof.rawHeader.length - 2) / 2} B, trie proof ${proof.txProof.reduce((a, n) => a + (n.length - 2) / 2, 0)} B in ${proof.txProof.length} nodes, raw tx ${(proof.rawTx.length - 2) / 2} B; as hex in JSON); one cosignature ${bytes(v2[0].steps[3])} bytes; a v2 receipt without anchors ${bytes(v2Bare)} bytes; block of ${size.blockTxs} transactions, anchor at index ${proof.txIndex}, log of ${records.length} records`,
    });
    report.add({
      section: 'receipts v2',
      measure: 'verify offline, every step (trusted block, witness required)',
      value: v2Rate,
      unit: 'receipts/s',
      peer: 'verifyReceiptOffline of v1 (anchor unchecked)',
      peerValue: v1Rate,
      peerUnit: 'receipts/s',
      ratio: ratio(v2Rate, v1Rate),
      note: `${v2.length} receipts of one checkpoint and one anchor: v2 validates each (hex fields of ~3.7 KB), rebuilds leaf and inclusion, and checks note signature, cosignature and anchor proof once per distinct checkpoint and branch (remembered, as v1 remembers the note signature)`,
    });
    report.details.receiptsV2 = {
      v1Size,
      v2Size,
      proofBytes,
      v1Rate,
      v2Rate,
      txIndex: proof.txIndex,
      blockTxs: size.blockTxs,
    };
  } finally {
    child.process.kill('SIGTERM');
  }
}
