import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAnchorProof } from '@fieldproof/keeper';
import { MemoryTree, toHex } from '@fieldproof/merkle';
import { generateDeviceKey, signCheckpoint, type DeviceKey } from '@fieldproof/note';
import { parseCheckpoint, parseSignedNote } from '@fieldproof/note/verify';
import {
  BUNDLE_FORMAT,
  buildReceipt,
  createReceiptChecker,
  encodeAnchorPayload,
  fleetLeafRecordOf,
  leafHashOf,
  verifyReceiptV2Offline,
  type AnchorBranch,
  type EvidenceRecord,
  type ReceiptAnchor,
  type ReceiptV2,
} from '@fieldproof/receipt';
import { Wallet, hexlify } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../packages/keeper/src/chain/json-rpc-client.js';
import { tempDir } from './support/databases.js';
import { HARDHAT_ACCOUNTS, startHardhatNode, type HardhatNode } from './support/hardhat.js';
import { runNode } from './support/processes.js';

/**
 * Receipts through a fleet log (docs/FORMATS.md §9.5), end to end on a real hardhat node and without
 * mocks: a unit's log and signed checkpoints (real Ed25519), a collector's fleet log whose leaves are
 * `fleetLeafRecordOf(device note)` (@fieldproof/merkle), a fleet checkpoint signed by the fleet key and
 * anchored in a real transaction (FPA1 names the fleet checkpoint), its anchor proof built by the keeper's
 * code from the node. One receipt carries a fleet branch and a direct anchor of a later device
 * checkpoint; every field of every new step mutated fails its own link; wrong keys and wrong leaves fail;
 * the built CLI verifies with --fleet-key after the node stopped.
 */
const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));
const DEVICE = 'fieldproof.test/unit-fleet';
const FLEET = 'collector.test/fleet';
const deviceKey = generateDeviceKey(DEVICE);
const forgedDeviceKey = generateDeviceKey(DEVICE); // same name, another key
const fleetKey = generateDeviceKey(FLEET);
const otherFleetKey = generateDeviceKey(FLEET);

function recordsOf(prefix: string, count: number): EvidenceRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    digest: `${i}`.padStart(64, prefix === 'u' ? 'a' : 'b'),
    kind: 'detection',
    occurredAt: 1_700_000_000_000 + i,
    receivedAt: 1_700_000_000_500 + i,
    payloadMime: null,
    metadata: null,
  }));
}

function logOf(origin: string, key: DeviceKey, records: readonly EvidenceRecord[]) {
  const tree = new MemoryTree();
  tree.append(records.map((r) => leafHashOf(r)));
  const noteAt = (size: number, signer: DeviceKey = key) =>
    signCheckpoint({ origin, treeSize: size, root: tree.root(size) }, signer);
  return { tree, noteAt };
}

// The unit: 7 records; checkpoint A at size 5 (the receipts' own), B at size 7 (the one the collector saw).
const records = recordsOf('u', 7);
const unit = logOf(DEVICE, deviceKey, records);
const noteA = unit.noteAt(5);
const noteB = unit.noteAt(7);
const consistencyAB = unit.tree.consistencyProof(5, 7).map(toHex);
// Another unit the collector also serves.
const otherUnit = logOf(
  'fieldproof.test/unit-other',
  generateDeviceKey('fieldproof.test/unit-other'),
  recordsOf('o', 3),
);
const noteOther = otherUnit.noteAt(3);

// The fleet log: device checkpoints the collector verified, in the order it received them.
const fleetRecords = [noteOther, noteB, otherUnit.noteAt(2)].map((signedNote, i) =>
  fleetLeafRecordOf({ id: `fleet-${i}`, signedNote, receivedAt: 1_700_000_001_000 + i }),
);
const fleet = logOf(FLEET, fleetKey, fleetRecords);
const fleetNote = fleet.noteAt(3);
const fleetCheckpoint = parseCheckpoint(parseSignedNote(fleetNote).text);

let node: HardhatNode;
let dir: string;
const blocks: string[] = [];
/** The fleet anchor and the direct anchor of B, each as a ReceiptAnchor with its proof. */
const anchors = new Map<
  'fleet' | 'direct',
  { anchor: ReceiptAnchor; proof: Awaited<ReturnType<typeof buildAnchorProof>> }
>();

async function anchorOnChain(
  name: 'fleet' | 'direct',
  origin: string,
  treeSize: number,
  root: Uint8Array,
  nonce: number,
) {
  const wallet = new Wallet(HARDHAT_ACCOUNTS[0].privateKey);
  const raw = await wallet.signTransaction({
    chainId: node.chainId,
    nonce,
    to: HARDHAT_ACCOUNTS[1].address,
    data: hexlify(encodeAnchorPayload({ origin, treeSize, root })),
    gasLimit: 200_000n,
    type: 2,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
  });
  const hash = (await node.rpc<string>('eth_sendRawTransaction', [raw])).toLowerCase();
  const rpc = new JsonRpcClient({ url: node.url, timeoutMs: 10_000 });
  const proof = await buildAnchorProof(rpc, hash, { rawTx: raw });
  const header = await node.rpc<{ timestamp: string }>('eth_getBlockByNumber', [
    `0x${proof.blockNumber.toString(16)}`,
    false,
  ]);
  blocks.push(`${proof.chainId} ${proof.blockNumber} ${proof.blockHash}`);
  anchors.set(name, {
    anchor: {
      chain: 'local',
      chainId: node.chainId,
      txHash: hash,
      blockNumber: proof.blockNumber,
      blockHash: proof.blockHash,
      blockTimestamp: Number(header.timestamp) * 1000,
      state: 'final',
    },
    proof,
  });
}

/** The fleet leaf's own v2 receipt, as the collector serves it (`fleetIndex` in the fleet log). */
function fleetReceiptOf(fleetIndex: number, note = fleetNote, key = fleetKey): ReceiptV2 {
  const { anchor, proof } = anchors.get('fleet')!;
  return buildReceipt({
    evidence: fleetRecords[fleetIndex]!,
    leafIndex: fleetIndex,
    inclusionProof: fleet.tree.inclusionProof(fleetIndex),
    checkpointNote: note,
    devicePublicKey: key.verifierKey,
    anchors: [anchor],
    anchorProofs: [proof],
  });
}

/** The unit's receipt of record 2, at checkpoint A: a direct anchor of B, and a fleet branch via B. */
function unitReceipt(fleetReceipt = fleetReceiptOf(1), extendNote = noteB): ReceiptV2 {
  const { anchor, proof } = anchors.get('direct')!;
  return buildReceipt({
    evidence: records[2]!,
    leafIndex: 2,
    inclusionProof: unit.tree.inclusionProof(2, 5),
    checkpointNote: noteA,
    devicePublicKey: deviceKey.verifierKey,
    anchorProofs: [proof],
    laterAnchors: [{ extend: { note: noteB, proof: consistencyAB }, anchors: [anchor] }],
    fleetPaths: [{ via: 'collector-1', extend: { note: extendNote, proof: consistencyAB }, fleetReceipt }],
  });
}

const idOf = (branch: AnchorBranch): string => {
  const tx = branch.steps.find((s) => s.type === 'anchor-tx') as { chainId: number; txHash: string };
  return `${tx.chainId}:${tx.txHash}`;
};
const trusted = () => new Map(blocks.map((b) => b.split(' ')).map(([c, n, h]) => [`${c}:${n}`, h!]));
const failedLinks = (value: unknown, options = {}) =>
  verifyReceiptV2Offline(value, options)
    .links.filter((l) => l.status === 'failed')
    .map((l) => l.link);

beforeAll(async () => {
  dir = tempDir('fieldproof-receipt-fleet-');
  node = await startHardhatNode();
  await anchorOnChain('fleet', FLEET, fleetCheckpoint.treeSize, fleetCheckpoint.root, 0);
  await anchorOnChain('direct', DEVICE, 7, unit.tree.root(7), 1);
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

describe('receipts through a fleet log, on a real chain', () => {
  it('a fleet branch and a direct anchor of a later checkpoint verify link by link; canonical with --trusted-blocks', () => {
    const receipt = unitReceipt();
    const [direct, viaFleet] = receipt.anchors;
    expect(viaFleet!.via).toBe('collector-1');
    expect(viaFleet!.steps.map((s) => s.type)).toEqual([
      'consistency',
      'fleet-leaf',
      'fleet-inclusion',
      'fleet-checkpoint',
      'anchor-tx',
      'tx-trie',
      'header',
      'block',
    ]);
    const v = verifyReceiptV2Offline(receipt, {
      trustedBlocks: trusted(),
      fleetKeys: [fleetKey.verifierKey],
    });
    expect(v.links.map((l) => `${l.status} ${l.link.replace(/:.*/, '')}`)).toEqual([
      'ok format',
      'unchecked content',
      'ok leaf',
      'ok inclusion',
      'ok checkpoint',
      'ok signature',
      'ok consistency',
      'ok anchor-tx',
      'ok tx-trie',
      'ok header',
      'ok canonical',
      'ok consistency',
      'ok fleet-leaf',
      'ok fleet-inclusion',
      'ok fleet-checkpoint',
      'ok anchor-tx',
      'ok tx-trie',
      'ok header',
      'ok canonical',
    ]);
    const fleetId = idOf(viaFleet!);
    expect(v.links.find((l) => l.link === `fleet-checkpoint:${fleetId}`)?.detail).toMatch(
      /a pinned fleet key/,
    );
    expect(v.links.find((l) => l.link === `anchor-tx:${fleetId}`)?.detail).toContain(`${FLEET}@3`);
    expect(v.links.find((l) => l.link === `anchor-tx:${idOf(direct!)}`)?.detail).toContain(`${DEVICE}@7`);
    expect(v.ok).toBe(true);
    // The bracket: the earlier of the two canonical blocks.
    const first = Math.min(...[...anchors.values()].map((a) => a.anchor.blockNumber!));
    expect(v.bracket).toMatchObject({ canonical: true, notAfter: { number: first } });

    const unpinned = verifyReceiptV2Offline(receipt);
    expect(unpinned.ok).toBe(true);
    expect(unpinned.links.find((l) => l.link === `fleet-checkpoint:${fleetId}`)?.detail).toMatch(
      /the fleet key was not pinned \(--fleet-key\)/,
    );
  });

  it('every field of every new step mutated fails that step’s link', () => {
    const receipt = unitReceipt();
    let mutations = 0;
    receipt.anchors.forEach((branch, b) => {
      const id = idOf(branch);
      branch.steps.forEach((step, s) => {
        if (!['consistency', 'fleet-leaf', 'fleet-inclusion', 'fleet-checkpoint'].includes(step.type)) return;
        for (const mutated of mutationsOf(step as unknown as Record<string, unknown>)) {
          const steps = branch.steps.map((x, j) => (j === s ? mutated.step : x));
          const anchorsMutated = receipt.anchors.map((x, j) => (j === b ? { ...x, steps } : x));
          const v = verifyReceiptV2Offline(
            { ...receipt, anchors: anchorsMutated },
            { fleetKeys: [fleetKey.verifierKey] },
          );
          const link = v.links.find((l) => l.link === `${step.type}:${id}`);
          expect(
            link?.status,
            `${step.type}.${mutated.field}: ${JSON.stringify(v.links.filter((l) => l.status === 'failed'))}`,
          ).toBe('failed');
          expect(v.links[0]).toMatchObject({ link: 'format', status: 'ok' });
          // Links of the other branch and of the trunk are untouched.
          expect(v.links.filter((l) => l.status === 'failed').every((l) => l.link.endsWith(id))).toBe(true);
          mutations++;
        }
      });
    });
    console.log(
      `[fleet receipt] ${mutations} single-field mutations of the new steps, each failed its own link`,
    );
    expect(mutations).toBeGreaterThan(25);
  });

  it('a fleet checkpoint signed by another key fails with --fleet-key and passes unpinned', () => {
    const forged = signCheckpoint(fleetCheckpoint, otherFleetKey);
    const receipt = unitReceipt(fleetReceiptOf(1, forged, otherFleetKey));
    const id = idOf(receipt.anchors[1]!);
    expect(failedLinks(receipt, { fleetKeys: [fleetKey.verifierKey] })).toEqual([`fleet-checkpoint:${id}`]);
    const unpinned = verifyReceiptV2Offline(receipt);
    expect(unpinned.ok).toBe(true);
    expect(unpinned.links.find((l) => l.link === `fleet-checkpoint:${id}`)?.detail).toMatch(/not pinned/);
    // The key swapped for the real one: the note carries no signature by it.
    const swapped = unitReceipt(fleetReceiptOf(1, forged, fleetKey));
    expect(failedLinks(swapped)).toContain(`fleet-checkpoint:${id}`);
  });

  it('a fleet leaf naming another device note fails fleet-leaf', () => {
    const receipt = unitReceipt(fleetReceiptOf(0));
    const id = idOf(receipt.anchors[1]!);
    const v = verifyReceiptV2Offline(receipt);
    expect(v.links.find((l) => l.link === `fleet-leaf:${id}`)).toMatchObject({
      status: 'failed',
      detail: /^the fleet record names device note [0-9a-f]{64}, this note hashes to/,
    });
    // Without the consistency step the fleet leaf of B does not name A either.
    const unextended = buildReceipt({
      evidence: records[2]!,
      leafIndex: 2,
      inclusionProof: unit.tree.inclusionProof(2, 5),
      checkpointNote: noteA,
      devicePublicKey: deviceKey.verifierKey,
      fleetPaths: [{ via: 'collector-1', fleetReceipt: fleetReceiptOf(1) }],
    });
    expect(failedLinks(unextended)).toEqual([`fleet-leaf:${id}`]);
    expect(verifyReceiptV2Offline(unextended).ok).toBe(false);
  });

  it('a consistency step to a later note signed by another key fails', () => {
    const forgedB = unit.noteAt(7, forgedDeviceKey);
    const receipt = unitReceipt(fleetReceiptOf(1), forgedB);
    const id = idOf(receipt.anchors[1]!);
    const v = verifyReceiptV2Offline(receipt);
    expect(v.links.find((l) => l.link === `consistency:${id}`)).toMatchObject({
      status: 'failed',
      detail: /not signed by the device key/,
    });
    expect(v.ok).toBe(false);
  });

  it('anchor-tx after a fleet checkpoint checks FPA1 against the fleet checkpoint, not the device one', () => {
    const receipt = unitReceipt();
    const [direct, viaFleet] = receipt.anchors;
    // The fleet steps, then the direct anchor's transaction (its calldata names device checkpoint B).
    const crossed = {
      ...viaFleet!,
      steps: [...viaFleet!.steps.slice(0, 4), ...direct!.steps.slice(1)],
    };
    const id = idOf(crossed);
    const v = verifyReceiptV2Offline({ ...receipt, anchors: [crossed] });
    expect(v.links.find((l) => l.link === `anchor-tx:${id}`)).toMatchObject({
      status: 'failed',
      detail: /calldata anchors origin "fieldproof\.test\/unit-fleet", tree size 7, root/,
    });
  });

  it('an unknown step type fails as step:<type>; steps out of order fail the anchor', () => {
    const receipt = unitReceipt();
    const viaFleet = receipt.anchors[1]!;
    const id = idOf(viaFleet);
    const later = {
      ...viaFleet,
      steps: [{ type: 'zk-proof', size: 1 }, ...viaFleet.steps],
    } as unknown as AnchorBranch;
    expect(failedLinks({ ...receipt, anchors: [later] })).toEqual([`step:zk-proof:${id}`]);
    const inTrunk = { ...receipt, steps: [...receipt.steps, { type: 'zk-proof' }] };
    expect(failedLinks(inTrunk)).toContain('step:zk-proof');
    const misplaced = { ...receipt, steps: [...receipt.steps, viaFleet.steps[2]] };
    expect(
      verifyReceiptV2Offline(misplaced).links.find((l) => l.link === 'step:fleet-inclusion')?.detail,
    ).toMatch(/belongs in an anchor branch/);
    const missing = { ...viaFleet, steps: viaFleet.steps.filter((s) => s.type !== 'fleet-inclusion') };
    expect(verifyReceiptV2Offline({ ...receipt, anchors: [missing] }).links.at(-1)).toMatchObject({
      link: `anchor-tx:${id}`,
      status: 'failed',
      detail: 'anchor steps out of order: consistency,fleet-leaf,fleet-checkpoint,anchor-tx',
    });
  });

  it('a fleet anchor not final when the receipt was made: --rpc checks its transaction against the fleet checkpoint', async () => {
    const { anchor } = anchors.get('fleet')!;
    const claimed = { ...anchor, state: 'included' };
    const claim = buildReceipt({
      evidence: fleetRecords[1]!,
      leafIndex: 1,
      inclusionProof: fleet.tree.inclusionProof(1),
      checkpointNote: fleetNote,
      devicePublicKey: fleetKey.verifierKey,
      anchors: [claimed],
    });
    const ofB = {
      evidence: records[6]!,
      leafIndex: 6,
      inclusionProof: unit.tree.inclusionProof(6),
      checkpointNote: noteB,
      devicePublicKey: deviceKey.verifierKey,
    };
    const receipt = buildReceipt({ ...ofB, fleetPaths: [{ via: 'collector-1', fleetReceipt: claim }] });
    expect(receipt.anchors[0]!.steps.map((s) => s.type)).toEqual([
      'fleet-leaf',
      'fleet-inclusion',
      'fleet-checkpoint',
      'anchor-tx',
      'block',
    ]);
    const id = idOf(receipt.anchors[0]!);
    const offline = await createReceiptChecker().check(receipt);
    expect(offline.links.find((l) => l.link === `anchor-tx:${id}`)?.status).toBe('unchecked');
    const online = await createReceiptChecker({
      rpcUrls: [node.url],
      fleetKeys: [fleetKey.verifierKey],
    }).check(receipt);
    expect(
      online.links.filter((l) => l.link.endsWith(id)).map((l) => `${l.status} ${l.link.replace(/:.*/, '')}`),
    ).toEqual(['ok fleet-leaf', 'ok fleet-inclusion', 'ok fleet-checkpoint', 'ok anchor-tx']);
    expect(online.ok, JSON.stringify(online.links)).toBe(true);
    // The same transaction claimed as a direct anchor of B: its calldata names the fleet checkpoint.
    const direct = await createReceiptChecker({ rpcUrls: [node.url] }).check(
      buildReceipt({ ...ofB, anchors: [claimed] }),
    );
    expect(direct.links.find((l) => l.link === `anchor-tx:${id}`)?.status).toBe('failed');
  });

  it('the built CLI: --fleet-key good, wrong and unpinned, a bundle, after the node stopped', async () => {
    await node.stop();
    const receipt = unitReceipt();
    const file = path.join(dir, 'receipt.json');
    fs.writeFileSync(file, JSON.stringify(receipt));
    const blocksFile = path.join(dir, 'blocks.txt');
    fs.writeFileSync(blocksFile, `${blocks.join('\n')}\n`);
    const verify = (args: string[]) => runNode([BIN, 'verify', ...args], {}, { cwd: dir, timeoutMs: 60_000 });

    const good = await verify([file, '--trusted-blocks', blocksFile, '--fleet-key', fleetKey.verifierKey]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toMatch(
      /^ok {8}fleet-checkpoint:31337:0x[0-9a-f]{64}: collector\.test\/fleet at fleet tree size 3, signed by collector\.test\/fleet\+[0-9a-f]{8}, a pinned fleet key$/m,
    );
    expect(good.stdout).toMatch(/^verdict: VERIFIED — every requested check holds; unchecked: content$/m);
    console.log(`[fleet verify --trusted-blocks --fleet-key, node stopped]\n${good.stdout}`);

    const wrong = await verify([
      file,
      '--trusted-blocks',
      blocksFile,
      '--fleet-key',
      otherFleetKey.verifierKey,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/^failed {4}fleet-checkpoint:.*which is not a --fleet-key/m);
    // The direct anchor still verifies: "anchors" holds, the fleet branch's failure fails the receipt.
    expect(wrong.stdout).toMatch(/^ok {8}anchors: 1 of 2 anchor\(s\) verified on a canonical chain$/m);
    const lines = (out: string, re: RegExp) =>
      out
        .split('\n')
        .filter((l) => re.test(l))
        .join('\n');
    console.log(`[fleet verify, another --fleet-key]\n${lines(wrong.stdout, /^failed|^verdict|anchors:/)}`);

    const unpinned = await verify([file, '--trusted-blocks', blocksFile]);
    expect(unpinned.code, unpinned.stdout).toBe(0);
    expect(unpinned.stdout).toMatch(
      /^ok {8}fleet-checkpoint:.*the fleet key was not pinned \(--fleet-key\)$/m,
    );
    console.log(`[fleet verify, no --fleet-key]\n${lines(unpinned.stdout, /fleet-checkpoint:/)}`);

    const bundle = path.join(dir, 'bundle.json');
    const list = [
      receipt,
      unitReceipt(fleetReceiptOf(1, signCheckpoint(fleetCheckpoint, otherFleetKey), otherFleetKey)),
    ];
    fs.writeFileSync(
      bundle,
      `{"format":"${BUNDLE_FORMAT}","createdAt":0,"log":{"origin":"${DEVICE}","treeSize":5,"publicKey":"${deviceKey.verifierKey}"},"selection":{"since":null,"until":null,"kind":null},"receipts":[\n${list.map((r) => JSON.stringify(r)).join(',\n')}\n],"count":${list.length},"skipped":0}\n`,
    );
    const pinnedBundle = await verify([
      bundle,
      '--trusted-blocks',
      blocksFile,
      '--fleet-key',
      fleetKey.verifierKey,
    ]);
    expect(pinnedBundle.code, pinnedBundle.stdout).toBe(1);
    expect(pinnedBundle.stdout).toMatch(/2 receipt\(s\), 1 verified, 1 failed/);
    const bothKeys = await verify([
      bundle,
      '--trusted-blocks',
      blocksFile,
      '--fleet-key',
      fleetKey.verifierKey,
      '--fleet-key',
      otherFleetKey.verifierKey,
    ]);
    expect(bothKeys.code, bothKeys.stdout).toBe(0);

    const bad = await verify([file, '--fleet-key', 'not-a-key']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fleet-key not-a-key/);
    const consistency = await verify(['--consistency', file, file, '--fleet-key', fleetKey.verifierKey]);
    expect(consistency.code).toBe(2);
    expect(consistency.stderr).toMatch(/--fleet-key is for receipts, not --consistency/);
  });
});

/** Single-field mutations of a step that keep it well-formed: each string field, each number, each hash. */
function mutationsOf(step: Record<string, unknown>): { field: string; step: Record<string, unknown> }[] {
  const out: { field: string; step: Record<string, unknown> }[] = [];
  const flipHex = (h: string) => `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}`;
  for (const [field, value] of Object.entries(step)) {
    if (field === 'type') continue;
    if (typeof value === 'number') out.push({ field, step: { ...step, [field]: value + 1 } });
    else if (field === 'note') {
      // Another tree size in the note body: its signature no longer holds.
      const text = value as string;
      out.push({
        field,
        step: { ...step, note: text.replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) + 1}\n`) },
      });
    } else if (field === 'publicKey') {
      out.push({ field, step: { ...step, publicKey: otherFleetKey.verifierKey } });
    } else if (typeof value === 'string') out.push({ field, step: { ...step, [field]: flipHex(value) } });
    else if (Array.isArray(value)) {
      value.forEach((h: string, i) =>
        out.push({
          field: `${field}[${i}]`,
          step: { ...step, [field]: value.map((x: string, j) => (j === i ? flipHex(x) : x)) },
        }),
      );
    } else if (field === 'evidence') {
      const e = value as Record<string, unknown>;
      const changed: Record<string, unknown> = {
        id: `${e.id as string}x`,
        digest: flipHex(e.digest as string),
        kind: 'detection',
        occurredAt: (e.occurredAt as number) + 1,
        receivedAt: (e.receivedAt as number) + 1,
        payloadMime: 'text/plain',
      };
      for (const [k, v] of Object.entries(changed))
        out.push({ field: `evidence.${k}`, step: { ...step, evidence: { ...e, [k]: v } } });
      const m = e.metadata as Record<string, unknown>;
      for (const [k, v] of Object.entries({
        origin: `${m.origin as string}x`,
        treeSize: (m.treeSize as number) + 1,
        root: flipHex(m.root as string),
      })) {
        out.push({
          field: `evidence.metadata.${k}`,
          step: { ...step, evidence: { ...e, metadata: { ...m, [k]: v } } },
        });
      }
    }
  }
  return out;
}
