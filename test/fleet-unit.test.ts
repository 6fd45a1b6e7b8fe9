import { getCheckpoint, getFleetProofCursor, getFleetProof } from '@fieldproof/db';
import { createCosigner, generateDeviceKey } from '@fieldproof/note';
import { ANCHOR_STEP_TYPES, verifyReceiptV2Offline } from '@fieldproof/receipt';
import type { ReceiptV2 } from '@fieldproof/receipt';
import { describe, expect, it } from 'vitest';
import { FleetLogStandIn } from './support/fleet-log-stand-in.js';
import { HARDHAT_ACCOUNTS, useHardhatNode } from './support/hardhat.js';
import { PushingUnit } from './support/pushing-unit.js';
import { TestClock, anchorDeps, driveUntil, jobsOf } from './support/anchor-fixtures.js';
import { createAnchoring } from '../packages/keeper/src/anchor/index.js';

/**
 * The unit's side of fleet anchoring (issue 16), on a real hardhat node, against a fleet log built from
 * the real parts (test/support/fleet-log-stand-in.ts): a unit on KEEPER_PROVIDER=collector — no chain
 * configuration at all — fetches the fleet proofs of its checkpoints, verifies and stores them; its
 * records become `final` (status, per-leaf anchoring, the list filter, GET /v1/collectors); a reorg that
 * drops the fleet anchor re-anchors it and the stored proof follows the new anchor; a tampered answer is
 * refused, nothing of it stored, and fetching stops.
 */
const txOf = (r: ReceiptV2) =>
  (r.anchors[0]!.steps.find((s) => s.type === 'anchor-tx') as { txHash: string }).txHash;

const node = useHardhatNode();

describe('a unit anchoring through its collector (KEEPER_PROVIDER=collector)', () => {
  it('stores verified fleet proofs, its records become final, a reorg replaces the proof, tampering is refused', async () => {
    const fleet = new FleetLogStandIn(node, HARDHAT_ACCOUNTS[3].privateKey);
    const url = await fleet.open();
    const witnessKey = createCosigner(generateDeviceKey('collector.test/witness')).verifierKey;
    const unit = new PushingUnit(
      'fieldproof.test/log/fleet-unit',
      { url, pushKey: 'fp_unused', witnessKey, fleetKey: fleet.fleetKey },
      { env: { KEEPER_PROVIDER: 'collector' } },
    );
    try {
      await unit.open();
      const db = unit.database.db;
      const get = async (path: string) => {
        const res = await unit.app.inject({
          method: 'GET',
          url: path,
          headers: { authorization: `Bearer ${unit.readKey}` },
        });
        expect(res.statusCode, res.body).toBe(200);
        return res.json<Record<string, unknown>>();
      };
      const fetchAll = async () => {
        for (let i = 0; i < 20 && (await unit.pusher.runOnce()); i++) unit.clock += 10;
      };
      const records = await unit.record(10, 'fleet'); // checkpoints of 5 and 10
      const notes = [(await getCheckpoint(db, 5))!.signed_note, (await getCheckpoint(db, 10))!.signed_note];
      await fetchAll();
      expect(await getFleetProof(db, 'fleet', 5)).toBeUndefined(); // nothing final yet: nothing listed
      expect((await get(`/v1/evidence/${records[0]!.id}`)).status).toBe('sequenced');

      for (const note of notes) await fleet.take(note);
      await fleet.settle('fleet anchored');
      await fetchAll();
      const stored5 = (await getFleetProof(db, 'fleet', 5))!;
      const stored10 = (await getFleetProof(db, 'fleet', 10))!;
      expect(stored5).toMatchObject({ state: 'final', collector: 'fleet' });
      expect(stored10).toMatchObject({ state: 'final' });
      for (const r of records) {
        const view = await get(`/v1/evidence/${r.id}`);
        expect(view.status).toBe('final');
        expect(view.anchors).toContainEqual(expect.objectContaining({ via: 'fleet', state: 'final' }));
      }
      const first = await get(`/v1/evidence/${records[0]!.id}`);
      expect((first.anchors as { treeSize: number }[])[0]!.treeSize).toBe(5); // the smallest covering
      expect((first.bracket as { notAfter: unknown } | null)?.notAfter).toBeDefined();
      const finals = await get('/v1/evidence?status=final&limit=100');
      expect((finals.items as unknown[]).length).toBe(10);
      // Receipts from the unit carry the fleet branch, and verify offline with the fleet key pinned.
      for (const [i, size] of [
        [0, 5],
        [7, 10],
      ] as const) {
        const receipt = (await get(`/v1/evidence/${records[i]!.id}/receipt`)) as unknown as ReceiptV2;
        expect((receipt.steps.find((s) => s.type === 'inclusion') as { treeSize: number }).treeSize).toBe(
          size,
        );
        expect(receipt.anchors).toHaveLength(1);
        expect(receipt.anchors[0]).toMatchObject({ via: 'fleet', state: 'final' });
        expect(receipt.anchors[0]!.steps.map((s) => s.type)).toEqual(
          ANCHOR_STEP_TYPES.filter((t) => t !== 'consistency'),
        );
        const verified = verifyReceiptV2Offline(receipt, { fleetKeys: [fleet.fleetKey] });
        expect(verified.links.filter((l) => l.status === 'failed')).toEqual([]);
      }
      const fleetView = async () =>
        ((await get('/v1/collectors')).collectors as { name: string; fleet: unknown }[]).find(
          (c) => c.name === 'fleet',
        )?.fleet;
      expect(await fleetView()).toMatchObject({ finalTreeSize: 10, lagLeaves: 0, stopped: false });

      // A reorg drops the fleet anchor: the fleet log re-anchors; the unit's stored proof follows.
      const before = txOf(JSON.parse(stored10.receipt) as ReceiptV2);
      const block = (JSON.parse(stored10.receipt) as ReceiptV2).anchors[0]!.steps.find(
        (s) => s.type === 'block',
      ) as { number: number };
      await node.rpc('hardhat_reset', []);
      await node.mineBlocks(block.number + 2);
      await fleet.drive(
        async () =>
          (await fleet.database.db.selectFrom('anchor_jobs').select('state').execute()).some(
            (j) => j.state === 'lost',
          ),
        'lost',
      );
      await fleet.settle('re-anchored');
      await fetchAll();
      const replaced = (await getFleetProof(db, 'fleet', 10))!;
      expect(replaced.state).toBe('final');
      expect(txOf(JSON.parse(replaced.receipt) as ReceiptV2)).not.toBe(before);
      const followed = (await get(`/v1/evidence/${records[9]!.id}/receipt`)) as unknown as ReceiptV2;
      expect(txOf(followed)).toBe(txOf(JSON.parse(replaced.receipt) as ReceiptV2));
      expect(verifyReceiptV2Offline(followed, { fleetKeys: [fleet.fleetKey] }).ok).toBe(true);
      const after = await get(`/v1/evidence/${records[9]!.id}`);
      expect(after.anchors).toContainEqual(
        expect.objectContaining({ via: 'fleet', txHash: txOf(JSON.parse(replaced.receipt) as ReceiptV2) }),
      );

      // A tampered answer (one inclusion hash changed): refused whole, nothing stored, fetching stops.
      fleet.tamper = (r) => ({
        ...r,
        steps: r.steps.map((s) =>
          s.type === 'inclusion' && s.proof.length > 0
            ? {
                ...s,
                proof: [
                  `${s.proof[0]!.slice(0, -1)}${s.proof[0]!.endsWith('0') ? '1' : '0'}`,
                  ...s.proof.slice(1),
                ],
              }
            : s,
        ),
      });
      const kept = await getFleetProof(db, 'fleet', 10);
      await fetchAll();
      expect(await getFleetProof(db, 'fleet', 10)).toEqual(kept);
      const cursor = (await getFleetProofCursor(db, 'fleet'))!;
      expect(cursor.stopped).toBe(true);
      expect(cursor.lastError).toMatch(
        /tree size 5 refused: its receipt does not verify: checkpoint: the note signs tree size/,
      );
      expect(await unit.pusher.runOnce()).toBe(false);
      expect(await fleetView()).toMatchObject({ stopped: true });
      const readiness = await unit.pusher.fleet!.readiness();
      expect(readiness.ok).toBe(false);
      expect(readiness.detail).toMatch(/^fleet: fetching stopped \(fleet proof of tree size 5 refused/);
    } finally {
      await unit.close();
      await fleet.close();
    }
  }, 240_000);

  it('a unit anchored directly at an earlier checkpoint: the fleet branch reaches the later fleet-proven one by a consistency step', async () => {
    const fleet = new FleetLogStandIn(node, HARDHAT_ACCOUNTS[3].privateKey);
    const url = await fleet.open();
    const witnessKey = createCosigner(generateDeviceKey('collector.test/witness')).verifierKey;
    const chains = [{ name: 'local', rpcUrl: node.url, chainId: node.chainId, confirmations: 2 }];
    const unit = new PushingUnit(
      'fieldproof.test/log/direct-and-fleet',
      { url, pushKey: 'fp_unused', witnessKey, fleetKey: fleet.fleetKey },
      { env: { KEEPER_PROVIDER: 'evm', KEEPER_CHAINS: JSON.stringify(chains) } },
    );
    let direct: ReturnType<typeof createAnchoring> | undefined;
    try {
      await unit.open();
      const db = unit.database.db;
      const records = await unit.record(5, 'direct'); // checkpoint of 5
      const clock = new TestClock();
      direct = createAnchoring(
        anchorDeps({ database: unit.database, chains, signerKey: HARDHAT_ACCOUNTS[2].privateKey, clock }),
      );
      await driveUntil(
        direct.tasks,
        async () => {
          await node.mine();
          const proven = await db.selectFrom('anchor_proofs').select('tx_id').execute();
          return (
            (await jobsOf(unit.database, 'local')).every((j) => j.state === 'final') && proven.length > 0
          );
        },
        { clock, label: 'direct anchor of 5 final', maxRounds: 60 },
      );
      await direct.close();
      direct = undefined;
      records.push(...(await unit.record(5, 'later'))); // checkpoint of 10, never anchored directly
      await fleet.take((await getCheckpoint(db, 10))!.signed_note); // the fleet log holds 10 only
      await fleet.settle('fleet anchored');
      for (let i = 0; i < 20 && (await unit.pusher.runOnce()); i++) unit.clock += 10;
      expect(await getFleetProof(db, 'fleet', 10)).toMatchObject({ state: 'final' });

      const receipt = (
        await unit.app.inject({
          method: 'GET',
          url: `/v1/evidence/${records[0]!.id}/receipt`,
          headers: { authorization: `Bearer ${unit.readKey}` },
        })
      ).json<ReceiptV2>();
      expect((receipt.steps.find((s) => s.type === 'inclusion') as { treeSize: number }).treeSize).toBe(5);
      expect(receipt.anchors.map((b) => b.via ?? 'direct')).toEqual(['direct', 'fleet']);
      expect(receipt.anchors[1]!.steps.map((s) => s.type)).toEqual(ANCHOR_STEP_TYPES);
      expect(receipt.anchors[1]!.steps[0]).toMatchObject({
        type: 'consistency',
        note: (await getCheckpoint(db, 10))!.signed_note,
      });
      const verified = verifyReceiptV2Offline(receipt, {
        expectedPublicKey: unit.device.verifierKey,
        fleetKeys: [fleet.fleetKey],
      });
      expect(verified.links.filter((l) => l.status === 'failed')).toEqual([]);
      expect(verified.links.map((l) => l.link)).toContainEqual(expect.stringMatching(/^consistency:/));
      // A record after the direct anchor: the smallest fleet-proven checkpoint covering it, no consistency.
      const later = (
        await unit.app.inject({
          method: 'GET',
          url: `/v1/evidence/${records[7]!.id}/receipt`,
          headers: { authorization: `Bearer ${unit.readKey}` },
        })
      ).json<ReceiptV2>();
      expect(later.anchors.map((b) => b.via ?? 'direct')).toEqual(['fleet']);
      expect(later.anchors[0]!.steps[0]!.type).toBe('fleet-leaf');
      expect(verifyReceiptV2Offline(later, { fleetKeys: [fleet.fleetKey] }).ok).toBe(true);
    } finally {
      await direct?.close();
      await unit.close();
      await fleet.close();
    }
  }, 240_000);
});
