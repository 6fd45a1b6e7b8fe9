import { rootFromFrontier, toHex, MemoryTree } from '@fieldproof/merkle';
import { verifyCosignature } from '@fieldproof/note';
import { leafHashOf } from '@fieldproof/receipt';
import type { EvidenceRecord } from '@fieldproof/receipt';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyPush,
  countDeviceLeaves,
  findDeviceByOrigin,
  getDeviceCheckpoint,
  verifyPush,
} from '../src/index.js';
import { INLINE_GUNZIP_BYTES } from '../src/http/gunzip-body.js';
import { testEngines } from '../../../test/support/databases.js';
import { SimulatedUnit, collectorDatabaseUrl, createTestCollector, devicePath, sendPush } from './support.js';
import type { TestCollector } from './support.js';
import type { PushRequest } from '../src/index.js';

describe.each(testEngines())('collector push (%s)', (engine) => {
  let c: TestCollector;
  let unit: SimulatedUnit;
  let key: string;

  let logLines: { level: number; msg: string; origin?: string }[];

  beforeEach(async () => {
    logLines = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => logLines.push(JSON.parse(line) as never) },
    );
    c = await createTestCollector(await collectorDatabaseUrl(engine), { logger });
    unit = new SimulatedUnit();
    key = await c.enroll(unit);
  });
  afterEach(async () => {
    await c.close();
  });

  /** What the collector holds for the unit: leaf count, head, and the root its stored leaves rebuild. */
  async function mirrored() {
    const device = (await findDeviceByOrigin(c.collector.db, unit.origin))!;
    const rows = await c.collector.db
      .selectFrom('device_leaves')
      .select('leaf_hash')
      .where('device_id', '=', device.id)
      .orderBy('leaf_index')
      .execute();
    const tree = new MemoryTree();
    tree.append(rows.map((r) => Buffer.from(r.leaf_hash, 'hex')));
    return {
      leaves: await countDeviceLeaves(c.collector.db, device.id),
      treeSize: device.tree_size,
      rootHash: device.root_hash,
      rebuilt: rows.length === 0 ? null : toHex(rootFromFrontier(tree.frontier)),
      equivocations: Number(
        (
          await c.collector.db
            .selectFrom('equivocations')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    };
  }

  it('mirrors a unit pushed in batches (one gzip-compressed) and cosigns each checkpoint', async () => {
    unit.record(5);
    let res = await sendPush(c.app, unit.origin, key, unit.push());
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ origin: unit.origin, treeSize: 5, appended: 5 });

    unit.record(12);
    res = await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 5 }), { gzip: true });
    expect(res.statusCode, res.body).toBe(200);

    unit.record(47);
    res = await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 17 }));
    expect(res.statusCode, res.body).toBe(200);
    const accepted = res.json<{
      treeSize: number;
      rootHash: string;
      cosignature: string;
      cosignedAt: number;
    }>();
    expect(accepted).toMatchObject({
      treeSize: 64,
      rootHash: toHex(unit.tree.root()),
      cosignedAt: 1_765_000_000,
    });

    // The cosignature verifies under the collector's verifier key, over the unit's own signed checkpoint.
    const cosigned = unit.checkpoints.get(64)! + accepted.cosignature;
    expect(verifyCosignature(cosigned, c.cosigner.verifierKey).timestamp).toBe(1_765_000_000);
    const witness = await c.app.inject({ method: 'GET', url: '/v1/witness' });
    expect(witness.json()).toEqual({ name: c.cosigner.name, verifierKey: c.cosigner.verifierKey });

    expect(await mirrored()).toEqual({
      leaves: 64,
      treeSize: 64,
      rootHash: toHex(unit.tree.root()),
      rebuilt: toHex(unit.tree.root()),
      equivocations: 0,
    });
    const head = await c.app.inject({
      method: 'GET',
      url: devicePath(unit.origin),
      headers: { authorization: `Bearer ${key}` },
    });
    expect(head.json()).toMatchObject({
      treeSize: 64,
      checkpoint: unit.checkpoints.get(64),
      cosignature: accepted.cosignature,
    });
  });

  it('is idempotent: a re-sent push, an older checkpoint and a push overlapping the mirror change nothing', async () => {
    unit.record(10);
    const first = await sendPush(c.app, unit.origin, key, unit.push());
    unit.record(6);
    const second = await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 10 }));
    expect(second.statusCode, second.body).toBe(200);

    const again = await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 10 }));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...second.json(), appended: 0 });
    const older = await sendPush(c.app, unit.origin, key, unit.push({ treeSize: 10 }));
    expect(older.statusCode).toBe(200);
    expect(older.json()).toMatchObject({ treeSize: 16, appended: 0 });
    expect(first.json()).toMatchObject({ treeSize: 10 });

    // The unit lost the acknowledgement of 16 and sends from 10 again, plus new leaves.
    unit.record(4);
    const overlap = await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 10 }));
    expect(overlap.statusCode, overlap.body).toBe(200);
    expect(overlap.json()).toMatchObject({ treeSize: 20, appended: 4 });
    expect(await mirrored()).toMatchObject({ leaves: 20, treeSize: 20, rebuilt: toHex(unit.tree.root()) });
  });

  it.each([
    { name: 'no key', auth: undefined, status: 401, code: 'FP_UNAUTHORIZED' },
    { name: 'a malformed key', auth: 'Bearer nope', status: 401, code: 'FP_UNAUTHORIZED' },
    { name: 'an unknown key', auth: `Bearer fp_${'A'.repeat(43)}`, status: 401, code: 'FP_UNAUTHORIZED' },
  ])('refuses a push with $name', async ({ auth, status, code }) => {
    unit.record(3);
    const res = await c.app.inject({
      method: 'POST',
      url: devicePath(unit.origin, '/push'),
      headers: { 'content-type': 'application/json', ...(auth === undefined ? {} : { authorization: auth }) },
      payload: JSON.stringify(unit.push()),
    });
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ statusCode: status, code });
  });

  it('refuses another origin, checkpoints signed by another key, and a revoked device', async () => {
    const other = new SimulatedUnit(undefined, 'fieldproof.test/log/unit-2');
    const otherKey = await c.enroll(other);
    other.record(3);
    unit.record(3);
    // A valid push key, used for another (or an unenrolled) origin.
    let res = await sendPush(c.app, unit.origin, otherKey, unit.push());
    expect(res.json()).toMatchObject({ statusCode: 403, code: 'FP_WRONG_DEVICE' });
    res = await sendPush(c.app, 'fieldproof.test/log/never-enrolled', key, unit.push());
    expect(res.json()).toMatchObject({ statusCode: 403, code: 'FP_WRONG_DEVICE' });
    // The right key and origin, but the checkpoint signed by someone else's key for this origin.
    const impostor = new SimulatedUnit(undefined, unit.origin);
    impostor.record(3);
    res = await sendPush(c.app, unit.origin, key, impostor.push());
    expect(res.json()).toMatchObject({ statusCode: 422, code: 'FP_BAD_CHECKPOINT' });
    // Another unit's genuine checkpoint (another origin) under this unit's key.
    res = await sendPush(c.app, unit.origin, key, other.push());
    expect(res.json()).toMatchObject({ statusCode: 422, code: 'FP_BAD_CHECKPOINT' });
    const { revokeDevice } = await import('../src/index.js');
    await revokeDevice(c.collector.db, unit.origin, 2);
    res = await sendPush(c.app, unit.origin, key, unit.push());
    expect(res.json()).toMatchObject({ statusCode: 401, code: 'FP_UNAUTHORIZED' });
    expect(await mirrored()).toMatchObject({ leaves: 0, treeSize: 0 });
  });

  it('refuses a body field it does not know with 400 FP_VALIDATION, storing nothing (how a protocol-1 collector answers `anchors`)', async () => {
    unit.record(3);
    const res = await sendPush(c.app, unit.origin, key, {
      ...unit.push(),
      futureField: [],
    } as unknown as PushRequest);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FP_VALIDATION' });
    expect(res.json<{ message: string }>().message).toMatch(/additional properties/);
    expect((await findDeviceByOrigin(c.collector.db, unit.origin))!.tree_size).toBe(0);
  });

  it('refuses a tampered record or leaf and stores nothing of that push', async () => {
    unit.record(8);
    expect((await sendPush(c.app, unit.origin, key, unit.push())).statusCode).toBe(200);
    unit.record(8);
    const honest = unit.push({ proofFrom: 8 });
    const before = await mirrored();

    // A record altered in transit: its leaf hash no longer encodes it.
    const record = structuredClone(honest.leaves[3]!);
    const alteredRecord = {
      ...honest,
      leaves: honest.leaves.map((l, i) =>
        i === 3 ? { ...record, record: { ...record.record, kind: 'edited' } } : l,
      ),
    };
    let res = await sendPush(c.app, unit.origin, key, alteredRecord);
    expect(res.json()).toMatchObject({ statusCode: 422, code: 'FP_LEAF_MISMATCH' });

    // Record and leaf hash replaced consistently: the leaves no longer rebuild the signed root.
    const swapped = new SimulatedUnit(unit.key, unit.origin);
    swapped.record(1);
    const fake = { ...swapped.leaves[0]!, leafIndex: 11 };
    const alteredLeaf = { ...honest, leaves: honest.leaves.map((l) => (l.leafIndex === 11 ? fake : l)) };
    res = await sendPush(c.app, unit.origin, key, alteredLeaf);
    expect(res.json()).toMatchObject({ statusCode: 422, code: 'FP_ROOT_MISMATCH' });

    // The same record twice (as a second leaf, hash and all): refused, not a database error.
    const dup = {
      ...honest,
      leaves: honest.leaves.map((l, i) => (i === 2 ? { ...honest.leaves[1]!, leafIndex: l.leafIndex } : l)),
    };
    res = await sendPush(c.app, unit.origin, key, dup);
    expect(res.json()).toMatchObject({ statusCode: 422, code: 'FP_LEAF_MISMATCH' });

    // A leaf missing: a gap.
    res = await sendPush(c.app, unit.origin, key, { ...honest, leaves: honest.leaves.slice(1) });
    expect(res.json()).toMatchObject({ statusCode: 422, code: 'FP_LEAF_GAP' });

    expect(await mirrored()).toEqual(before);
    expect((await sendPush(c.app, unit.origin, key, honest)).statusCode).toBe(200);
  });

  it('takes raw-bytes content by digest before the leaves that need it', async () => {
    unit.record(2, { withContent: true });
    const [digest, bytes] = [...unit.content][0]!;
    let res = await sendPush(c.app, unit.origin, key, unit.push());
    expect(res.json()).toMatchObject({ statusCode: 422, code: 'FP_CONTENT_MISSING' });
    const put = (d: string, body: Buffer) =>
      c.app.inject({
        method: 'PUT',
        url: devicePath(unit.origin, `/content/${d}`),
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
        payload: body,
      });
    res = await put(digest, Buffer.from('not the bytes'));
    expect(res.json()).toMatchObject({ statusCode: 422, code: 'FP_DIGEST_MISMATCH' });
    for (const [d, b] of unit.content) expect((await put(d, b)).statusCode).toBe(201);
    const gzipped = await c.app.inject({
      method: 'PUT',
      url: devicePath(unit.origin, `/content/${digest}`),
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/octet-stream',
        'content-encoding': 'gzip',
      },
      payload: gzipSync(bytes),
    });
    expect(gzipped.json()).toEqual({ digest, size: bytes.length });
    expect((await put(digest, bytes)).statusCode).toBe(201); // again: idempotent
    res = await sendPush(c.app, unit.origin, key, unit.push());
    expect(res.statusCode, res.body).toBe(200);
  });

  /** A POST of `bytes` as a gzip-encoded JSON push body. */
  const postGzipped = (bytes: Buffer) =>
    c.app.inject({
      method: 'POST',
      url: devicePath(unit.origin, '/push'),
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      payload: bytes,
    });

  it('a corrupt gzip body is a 400, a body past the limit a 413', async () => {
    unit.record(1);
    const res = await postGzipped(Buffer.from('not gzip at all'));
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'FP_BAD_REQUEST' });
    const big = await c.app.inject({
      method: 'POST',
      url: devicePath(unit.origin, '/push'),
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      payload: `{"checkpoint":"${'x'.repeat(c.config.bodyLimitBytes)}"}`,
    });
    expect(big.json()).toMatchObject({ statusCode: 413, code: 'FP_PAYLOAD_TOO_LARGE' });
  });

  it('decompresses a body of any size in one piece, and stops a gzip bomb at the body limit', async () => {
    // Past INLINE_GUNZIP_BYTES compressed (incompressible metadata): inflated on the threadpool.
    unit.record(300, {
      shape: (record) => ({ ...record, metadata: { noise: randomBytes(240).toString('base64') } }),
    });
    const request = unit.push();
    const compressed = gzipSync(JSON.stringify(request));
    expect(compressed.length).toBeGreaterThan(INLINE_GUNZIP_BYTES);
    let res = await sendPush(c.app, unit.origin, key, request, { gzip: true });
    expect(res.json()).toMatchObject({ treeSize: 300, appended: 300 });

    // Bodies that decompress to one byte past the limit, compressed below and above INLINE_GUNZIP_BYTES.
    const small = gzipSync(Buffer.alloc(c.config.bodyLimitBytes + 1, 0x20), { level: 9 });
    expect(small.length).toBeLessThan(INLINE_GUNZIP_BYTES);
    res = await postGzipped(small);
    expect(res.json()).toMatchObject({ statusCode: 413, code: 'FP_PAYLOAD_TOO_LARGE' });
    // Incompressible, so the compressed body itself passes INLINE_GUNZIP_BYTES; past the limit once inflated.
    const noise = randomBytes(INLINE_GUNZIP_BYTES * 2).toString('base64');
    const big = gzipSync(noise.repeat(Math.ceil((c.config.bodyLimitBytes + 1) / noise.length)), { level: 1 });
    expect(big.length).toBeGreaterThan(INLINE_GUNZIP_BYTES);
    res = await postGzipped(big);
    expect(res.json()).toMatchObject({ statusCode: 413, code: 'FP_PAYLOAD_TOO_LARGE' });
    // A corrupt body past the inline size is the client's fault as well.
    res = await postGzipped(Buffer.concat([big.subarray(0, 1000), randomBytes(INLINE_GUNZIP_BYTES)]));
    expect(res.json()).toMatchObject({ statusCode: 400, code: 'FP_BAD_REQUEST' });
    expect((await mirrored()).treeSize).toBe(300);
  });

  it('stores each record exactly as the unit sent it, whatever its characters', async () => {
    const odd = 'quote " backslash \\ tab \t newline \n é € 😀 \u2028 </script>';
    unit.record(3, {
      shape: (record, n) => ({
        ...record,
        id: `${record.id}-${odd}`,
        kind: `kind ${odd}`,
        payloadMime: n === 1 ? null : `text/plain; note="${odd}"`,
        metadata: n === 2 ? null : { [odd]: [odd, 1.5, -0, 1e21, { nested: odd }], z: true, a: null },
      }),
    });
    const res = await sendPush(c.app, unit.origin, key, unit.push(), { gzip: true });
    expect(res.json()).toMatchObject({ treeSize: 3, appended: 3 });
    const device = (await findDeviceByOrigin(c.collector.db, unit.origin))!;
    const rows = await c.collector.db
      .selectFrom('device_leaves')
      .select(['leaf_index', 'evidence_id', 'record'])
      .where('device_id', '=', device.id)
      .orderBy('leaf_index')
      .execute();
    expect(rows.map((r) => r.record)).toEqual(unit.leaves.map((l) => JSON.stringify(l.record)));
    expect(rows.map((r) => r.evidence_id)).toEqual(unit.leaves.map((l) => l.record.id));
    for (const [i, row] of rows.entries()) {
      expect(toHex(leafHashOf(JSON.parse(row.record) as EvidenceRecord))).toBe(unit.leaves[i]!.leafHash);
    }
  });

  describe('the unlocked append of a push that continues the head', () => {
    /** The push verified as the route verifies it, and the device row as authentication read it. */
    async function prepared(request: PushRequest) {
      const device = (await findDeviceByOrigin(c.collector.db, unit.origin))!;
      const push = verifyPush(request, { origin: device.origin, verifierKey: device.verifier_key });
      return { device, push };
    }
    const context = () => ({ collector: c.collector, cosigner: c.cosigner, now: () => 1_765_000_000_000 });

    it('a head moved by another replica since authentication: answered under the lock, stored once', async () => {
      unit.record(9);
      const { device, push } = await prepared(unit.push());
      // Another replica applies the same push between this one's authentication and its append.
      expect((await sendPush(c.app, unit.origin, key, unit.push())).json()).toMatchObject({ appended: 9 });
      const late = await applyPush(context(), device.id, push, device);
      expect(late).toMatchObject({ treeSize: 9, appended: 0, rootHash: toHex(unit.tree.root()) });

      // The next push, with the head as this replica saw it before (size 0): not a continuation of it, so
      // the locked path takes it and appends from the database's head.
      unit.record(5);
      const next = await prepared(unit.push({ proofFrom: 9 }));
      const answer = await applyPush(context(), device.id, next.push, device);
      expect(answer).toMatchObject({ treeSize: 14, appended: 5 });
      expect(await mirrored()).toEqual({
        leaves: 14,
        treeSize: 14,
        rootHash: toHex(unit.tree.root()),
        rebuilt: toHex(unit.tree.root()),
        equivocations: 0,
      });
    });

    it('two replicas appending the same continuation at once: one appends, the other answers a re-send', async () => {
      unit.record(6);
      expect((await sendPush(c.app, unit.origin, key, unit.push())).statusCode).toBe(200);
      unit.record(7);
      const { device, push } = await prepared(unit.push({ proofFrom: 6 }));
      const answers = await Promise.all([
        applyPush(context(), device.id, push, device),
        applyPush(context(), device.id, push, device),
      ]);
      expect(answers.map((a) => a.appended).sort()).toEqual([0, 7]);
      expect(answers[0].cosignature).toBe(answers[1].cosignature);
      expect(await mirrored()).toMatchObject({ leaves: 13, treeSize: 13, rebuilt: toHex(unit.tree.root()) });
    });

    it('a fork whose proof does not verify against the head it continues is caught under the lock', async () => {
      unit.record(4);
      expect((await sendPush(c.app, unit.origin, key, unit.push())).statusCode).toBe(200);
      unit.record(4);
      expect((await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 4 }))).statusCode).toBe(200);
      // Restored to 4, other evidence up to 12, pushed from the collector's head 8 with a proof from 8.
      const forked = unit.fork(4);
      forked.record(8, { tag: 'after restore' });
      const { device, push } = await prepared(forked.push({ fromLeaf: 8, proofFrom: 8 }));
      await expect(applyPush(context(), device.id, push, device)).rejects.toThrow(/not consistent/);
      expect(await mirrored()).toMatchObject({
        treeSize: 8,
        rebuilt: toHex(unit.tree.root()),
        equivocations: 1,
      });
    });
  });

  describe('equivocation', () => {
    it('a fork of the same size with another root: 409, never cosigned, both checkpoints kept and listed', async () => {
      unit.record(10);
      expect((await sendPush(c.app, unit.origin, key, unit.push())).statusCode).toBe(200);
      unit.record(6);
      expect((await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 10 }))).statusCode).toBe(200);

      // The unit is restored from a backup of size 10 and records different evidence up to 16.
      const forked = unit.fork(10);
      forked.record(6, { tag: 'after restore' });
      const res = await sendPush(c.app, unit.origin, key, forked.push({ proofFrom: 10 }));
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'FP_EQUIVOCATION' });

      const list = await c.app.inject({ method: 'GET', url: devicePath(unit.origin, '/equivocations') });
      expect(list.json()).toMatchObject({
        origin: unit.origin,
        equivocations: [
          {
            reason: 'same_size_other_root',
            heldTreeSize: 16,
            heldCheckpoint: unit.checkpoints.get(16),
            pushedTreeSize: 16,
            pushedCheckpoint: forked.checkpoints.get(16),
          },
        ],
      });
      // Pushed again: still refused, kept once; the honest mirror is untouched; the metric counts both.
      expect((await sendPush(c.app, unit.origin, key, forked.push({ proofFrom: 10 }))).statusCode).toBe(409);
      expect(await mirrored()).toMatchObject({
        treeSize: 16,
        rootHash: toHex(unit.tree.root()),
        equivocations: 1,
      });
      const device = (await findDeviceByOrigin(c.collector.db, unit.origin))!;
      expect((await getDeviceCheckpoint(c.collector.db, device.id, 16))!.signed_note).toBe(
        unit.checkpoints.get(16),
      );
      expect(logLines.filter((l) => l.level === 50 && l.msg.startsWith('equivocation'))).toMatchObject([
        { origin: unit.origin },
        { origin: unit.origin },
      ]);
      const metrics = await c.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/^fieldproof_collector_equivocations_total 2$/m);
    });

    it('a larger fork that is not consistent with the cosigned checkpoint: 409 and kept', async () => {
      unit.record(12);
      expect((await sendPush(c.app, unit.origin, key, unit.push())).statusCode).toBe(200);
      const forked = unit.fork(7);
      forked.record(20, { tag: 'forked' });
      // The forked unit proves consistency from 12 within its own history: that proof fails against ours.
      const res = await sendPush(c.app, unit.origin, key, forked.push({ proofFrom: 12 }));
      expect(res.json()).toMatchObject({ statusCode: 409, code: 'FP_EQUIVOCATION' });
      // An older checkpoint of the fork (size 9 < 12) is not a prefix of what was cosigned either.
      const small = unit.fork(7);
      small.record(2, { tag: 'forked-9' });
      const older = await sendPush(c.app, unit.origin, key, {
        checkpoint: small.checkpoints.get(9)!,
        leaves: [],
      });
      expect(older.statusCode).toBe(409);
      const list = await c.app.inject({ method: 'GET', url: devicePath(unit.origin, '/equivocations') });
      const rows = list.json<{
        equivocations: { reason: string; heldCheckpoint: string; pushedTreeSize: number }[];
      }>().equivocations;
      expect(rows.map((r) => [r.reason, r.pushedTreeSize])).toEqual([
        ['not_consistent', 27],
        ['not_consistent', 9],
      ]);
      expect(rows.every((r) => r.heldCheckpoint === unit.checkpoints.get(12))).toBe(true);
      // The honest unit carries on.
      unit.record(3);
      expect((await sendPush(c.app, unit.origin, key, unit.push({ proofFrom: 12 }))).statusCode).toBe(200);
    });
  });
});
