import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOG_META, appendEvidence, findEvidenceWithLeaf, initLogMeta, newId } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { createSequencer } from '@fieldproof/keeper';
import type { DeviceIdentity } from '@fieldproof/keeper';
import { generateDeviceKey } from '@fieldproof/note';
import { receiptFor } from '@fieldproof/proofs';
import { deviceNoteHash, fleetLeafRecordOf } from '@fieldproof/receipt';
import type { ReceiptV2 } from '@fieldproof/receipt';
import { evidenceRowOf } from '../../packages/collector/src/fleet/fleet-intake.js';
import { createAnchoring } from '../../packages/keeper/src/anchor/index.js';
import { TestClock, anchorDeps, driveUntil, jobsOf } from './anchor-fixtures.js';
import { createTestDatabase } from './databases.js';
import type { HardhatNode } from './hardhat.js';

/**
 * The collector's fleet log as the unit sees it through `GET /v1/devices/:origin/fleet-proofs` (issue 16,
 * contract §3), built from the real parts — a unit-shaped database whose records are device checkpoints,
 * the keeper's sequencer signing fleet checkpoints with the fleet key, the keeper's anchoring on a real
 * node, `@fieldproof/proofs` building each fleet leaf's v2 receipt — for testing the unit's side before
 * and apart from `fieldproof collector`. Serves every leaf whose receipt has a proven final anchor (no
 * cursor: the unit's upsert makes a repeat harmless); `tamper` changes what is served.
 */
export class FleetLogStandIn {
  readonly origin = 'fleet.test/log/fleet';
  readonly key = generateDeviceKey(this.origin);
  readonly clock = new TestClock();
  /** Changes a served receipt before it leaves (a man in the middle, a broken collector). */
  tamper: ((receipt: ReceiptV2) => ReceiptV2) | undefined;
  /** Fleet leaf ids by device note hash. */
  readonly leaves = new Map<string, { id: string; treeSize: number }>();
  #server: http.Server | undefined;
  #database!: Database;
  #deps!: ReturnType<typeof anchorDeps>;
  #anchoring!: ReturnType<typeof createAnchoring>;
  #sequencer!: ReturnType<typeof createSequencer>;

  constructor(
    readonly node: HardhatNode,
    readonly signerKey: string,
  ) {}

  get fleetKey(): string {
    return this.key.verifierKey;
  }

  get database(): Database {
    return this.#database;
  }

  async open(): Promise<string> {
    this.#database = await createTestDatabase('sqlite');
    this.#deps = anchorDeps({
      database: this.#database,
      chains: [{ name: 'local', rpcUrl: this.node.url, chainId: this.node.chainId, confirmations: 2 }],
      signerKey: this.signerKey,
      clock: this.clock,
    });
    const identity: DeviceIdentity = {
      key: this.key,
      origin: this.origin,
      verifierKey: this.key.verifierKey,
      source: { kind: 'secret' },
    };
    await initLogMeta(this.#database.db, LOG_META.verifierKey, this.key.verifierKey, this.clock.now());
    this.#anchoring = createAnchoring(this.#deps);
    this.#sequencer = createSequencer(this.#deps, identity);
    const server = http.createServer((req, res) => {
      void this.#answer(req.url ?? '').then(
        (body) => {
          res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body ?? { statusCode: 404, code: 'FP_NOT_FOUND', message: 'no' }));
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ statusCode: 500, code: 'FP_INTERNAL', message: err.message }));
        },
      );
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Takes a device's signed checkpoint into the fleet log (one fleet leaf) and sequences it. */
  async take(signedNote: string): Promise<void> {
    const noteHash = deviceNoteHash(signedNote);
    if (this.leaves.has(noteHash)) return;
    const record = fleetLeafRecordOf({ id: newId(), signedNote, receivedAt: this.clock.now() });
    await this.#database.db.transaction().execute((trx) => appendEvidence(trx, [evidenceRowOf(record)]));
    const treeSize = (record.metadata as { treeSize: number }).treeSize;
    this.leaves.set(noteHash, { id: record.id, treeSize });
    while (await this.#sequencer.runOnce()) this.clock.advance(10);
  }

  /** Anchors the fleet log on the node until every anchor job is final (or lost) with its proof. */
  async settle(label: string): Promise<void> {
    await driveUntil(
      this.#anchoring.tasks,
      async () => {
        await this.node.mine();
        const jobs = await jobsOf(this.#database, 'local');
        if (jobs.length === 0 || !jobs.every((j) => j.state === 'final' || j.state === 'lost')) return false;
        return (await this.#served()).length > 0;
      },
      { clock: this.clock, label, maxRounds: 80 },
    );
  }

  /** Runs the anchoring tasks (mining a block each round) until `done()` holds. */
  async drive(done: () => Promise<boolean>, label: string): Promise<void> {
    await driveUntil(
      this.#anchoring.tasks,
      async () => {
        await this.node.mine();
        return done();
      },
      { clock: this.clock, label, maxRounds: 80 },
    );
  }

  async close(): Promise<void> {
    await this.#anchoring?.close();
    await new Promise((resolve) => this.#server?.close(resolve));
    await this.#database?.close();
  }

  /** The fleet leaves whose receipt has a proven final anchor, as the route lists them. */
  async #served(): Promise<{ treeSize: number; noteHash: string; receipt: ReceiptV2 }[]> {
    const out = [];
    for (const [noteHash, leaf] of this.leaves) {
      const row = await findEvidenceWithLeaf(this.#database.db, leaf.id);
      if (row?.leaf_index === null || row === undefined) continue;
      const receipt = (await receiptFor(this.#database.db, leaf.id)) as ReceiptV2;
      const proven = receipt.anchors.some(
        (b) => b.state === 'final' && b.steps.some((s) => s.type === 'header'),
      );
      if (proven) out.push({ treeSize: leaf.treeSize, noteHash, receipt });
    }
    return out;
  }

  async #answer(url: string): Promise<unknown> {
    if (!/^\/v1\/devices\/[^/]+\/fleet-proofs\?/.test(url)) return undefined;
    const proofs = (await this.#served()).map((p) => ({
      ...p,
      receipt: this.tamper === undefined ? p.receipt : this.tamper(p.receipt),
    }));
    return {
      fleetKey: this.fleetKey,
      fleetOrigin: this.origin,
      cursor: String(proofs.length),
      more: false,
      proofs,
    };
  }
}
