import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { fromHex, verifyConsistency, verifyInclusion } from '@fieldproof/merkle';
import { createCosigner, generateDeviceKey, openNote, verifyCosignature } from '@fieldproof/note';
import { leafHashOf } from '@fieldproof/receipt';
import type { Receipt, ReceiptV2 } from '@fieldproof/receipt';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { collectorDatabaseUrl, createTestCollector, devicePath } from '../packages/collector/test/support.js';
import type { TestCollector } from '../packages/collector/test/support.js';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { tempDir, testEngines } from './support/databases.js';
import { runNode } from './support/processes.js';
import { PushingUnit } from './support/pushing-unit.js';

/** The collector's normal engine when configured (PostgreSQL), else SQLite. */
const engine = testEngines().at(-1)!;
const fp = (args: string[], env: Record<string, string>) => runNode([FIELDPROOF_BIN, ...args], env);

async function listening(c: TestCollector): Promise<string> {
  await c.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(c.app.server.address() as AddressInfo).port}`;
}

async function collectorKey(c: TestCollector, scopes: string): Promise<string> {
  const env = { COLLECTOR_DB_URL: c.config.database.target.url, COLLECTOR_DATA_DIR: c.config.dataDir };
  const made = await fp(['keys', 'create', '--collector', '--scopes', scopes, '--json'], env);
  expect(made.code, made.stderr).toBe(0);
  return (JSON.parse(made.stdout) as { key: string }).key;
}

describe(`the collector's auditor routes (${engine})`, () => {
  it('serve a mirrored log read-only, and a receipt that verifies offline after the unit is deleted', async () => {
    const collector = await createTestCollector(await collectorDatabaseUrl(engine));
    try {
      const url = await listening(collector);
      const origin = 'fieldproof.test/log/audit-unit';
      const unit = new PushingUnit(origin, { url, pushKey: '', witnessKey: collector.cosigner.verifierKey });
      const realKey = await collector.enroll({ origin, key: { verifierKey: unit.device.verifierKey } });
      fs.writeFileSync(path.join(unit.dir, 'collector.key'), `${realKey}\n`, { mode: 0o600 });
      await unit.open();
      const records = await unit.record(12, 'audit'); // checkpoints of 5, 10, 12
      await unit.push();
      const verifierKey = unit.device.verifierKey;
      await unit.close();
      // The unit is gone: database, content, everything.
      fs.rmSync(unit.dir, { recursive: true, force: true });

      const readKey = await collectorKey(collector, 'read');
      const writeKey = await collectorKey(collector, 'write');
      const get = (suffix: string, key: string | null = readKey) =>
        fetch(`${url}${devicePath(origin, suffix)}`, {
          headers: key === null ? {} : { authorization: `Bearer ${key}` },
        });

      expect((await get('/checkpoint', null)).status).toBe(401);
      expect((await get('/checkpoint', realKey)).status).toBe(401); // a push key is not a read key
      expect((await get('/checkpoint', writeKey)).status).toBe(403);

      const checkpoint = (await (await get('/checkpoint')).json()) as Record<string, unknown>;
      expect(checkpoint).toMatchObject({
        origin,
        treeSize: 12,
        verifierKey,
        witnessKey: collector.cosigner.verifierKey,
      });
      verifyCosignature(checkpoint.cosignedCheckpoint as string, collector.cosigner.verifierKey);
      openNote(checkpoint.cosignedCheckpoint as string, verifierKey);
      const root = fromHex(checkpoint.rootHash as string);

      const page = (await (await get('/leaves?from=3&limit=5')).json()) as {
        leaves: { leafIndex: number; leafHash: string; record: { id: string } }[];
        next: number;
      };
      expect(page.leaves.map((l) => l.leafIndex)).toEqual([3, 4, 5, 6, 7]);
      expect(page.next).toBe(8);
      expect(page.leaves.map((l) => l.record.id)).toEqual(records.slice(3, 8).map((r) => r.id));

      const one = (await (await get(`/evidence/${records[4]!.id}`)).json()) as {
        leafIndex: number;
        leafHash: string;
      };
      expect(one.leafIndex).toBe(4);
      const inclusion = (await (await get('/proofs/inclusion?leafIndex=4')).json()) as { proof: string[] };
      verifyInclusion(4, 12, fromHex(one.leafHash), inclusion.proof.map(fromHex), root);
      const older = (await (await get('/checkpoint?treeSize=5')).json()) as { rootHash: string };
      const consistency = (await (await get('/proofs/consistency?from=5&to=12')).json()) as {
        proof: string[];
      };
      verifyConsistency(5, 12, consistency.proof.map(fromHex), fromHex(older.rootHash), root);
      expect((await get('/checkpoint?treeSize=7')).status).toBe(404); // never signed at 7
      // Bad input: a clear 400 or 404, never a 500.
      for (const [suffix, status] of [
        ['/leaves?limit=0', 400],
        ['/leaves?from=-1', 400],
        ['/proofs/inclusion?leafIndex=12', 400],
        ['/proofs/inclusion?leafIndex=x', 400],
        ['/proofs/consistency?from=12&to=5', 400],
        ['/checkpoint?treeSize=1.5', 400],
        ['/content/not-a-digest', 400],
      ] as const) {
        const res = await get(suffix);
        expect(res.status, suffix).toBe(status);
        expect(((await res.json()) as { message: string }).message, suffix).not.toBe('');
      }
      const unknown = await fetch(`${url}${devicePath('nobody.test/log/x', '/checkpoint')}`, {
        headers: { authorization: `Bearer ${readKey}` },
      });
      expect(unknown.status).toBe(404);
      // A revoked read key is refused.
      const env = {
        COLLECTOR_DB_URL: collector.config.database.target.url,
        COLLECTOR_DATA_DIR: collector.config.dataDir,
      };
      const made = await fp(['keys', 'create', '--collector', '--scopes', 'read', '--json'], env);
      const revoked = JSON.parse(made.stdout) as { id: string; key: string };
      const listed = await fp(['keys', 'list', '--collector', '--json'], env);
      expect((JSON.parse(listed.stdout) as { id: string }[]).map((k) => k.id)).toContain(revoked.id);
      const revoking = await fp(['keys', 'revoke', '--collector', revoked.id], env);
      expect(revoking.code, revoking.stderr).toBe(0);
      expect(revoking.stdout).toMatch(/a running collector refuses it/);
      expect((await get('/checkpoint', revoked.key)).status).toBe(401);
      expect((await get('/evidence/no-such-record/receipt')).status).toBe(404);

      const raw = records[1]!;
      const content = await get(`/content/${raw.digest}`);
      expect(content.status).toBe(200);
      expect(Buffer.from(await content.arrayBuffer())).toEqual(raw.bytes);
      expect((await get(`/content/${records[0]!.digest}`)).status).toBe(404); // a digest-only record

      // The receipt, from the collector alone: fieldproof-receipt/v2 with the collector's cosignature as a
      // step under its witness key, verified offline by the CLI against the kept content.
      const witnessKey = collector.cosigner.verifierKey;
      const res = await get(`/evidence/${raw.id}/receipt`);
      expect(res.status).toBe(200);
      const receipt = (await res.json()) as ReceiptV2;
      expect(receipt.format).toBe('fieldproof-receipt/v2');
      expect(receipt.steps.map((s) => s.type)).toEqual(['leaf', 'inclusion', 'checkpoint', 'cosignature']);
      const [leafStep, , checkpointStep, cosignatureStep] = receipt.steps;
      expect(leafStep).toMatchObject({ leafHash: Buffer.from(leafHashOf(receipt.evidence)).toString('hex') });
      expect(checkpointStep).toMatchObject({ publicKey: verifierKey });
      expect(cosignatureStep).toMatchObject({ type: 'cosignature', witnessKey });
      const { note } = checkpointStep as { note: string };
      const { line } = cosignatureStep as { line: string };
      expect(note).not.toContain(line); // the unit's note as it signed it; the witness's line is its own step
      verifyCosignature(note + line, witnessKey);
      const dir = tempDir('fieldproof-audit-');
      const file = path.join(dir, 'receipt.json');
      fs.writeFileSync(file, JSON.stringify(receipt));
      fs.writeFileSync(path.join(dir, 'content.bin'), raw.bytes!);
      const verified = await fp(
        [
          'verify',
          file,
          '--content',
          path.join(dir, 'content.bin'),
          '--expect-key',
          verifierKey,
          '--witness-key',
          witnessKey,
        ],
        {},
      );
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(/^ok {8}cosignature:/m);
      expect(verified.stdout).toMatch(/^ok {8}witness:.*required witness/m);
      expect(verified.stdout).toMatch(/verdict: VERIFIED/);
      // Another key under the collector's name did not cosign it: required, so the receipt fails.
      const impostor = createCosigner(generateDeviceKey(collector.cosigner.name)).verifierKey;
      const wrongWitness = await fp(['verify', file, '--witness-key', impostor], {});
      expect(wrongWitness.code, wrongWitness.stdout).toBe(1);
      expect(wrongWitness.stdout).toMatch(/^failed {4}witness:/m);
      // A changed cosignature line fails its step.
      const forged = structuredClone(receipt);
      const forgedLine = (forged.steps[3] as { line: string }).line;
      const at = forgedLine.length - 20; // inside the signature's base64, away from the padding
      (forged.steps[3] as { line: string }).line =
        forgedLine.slice(0, at) + (forgedLine[at] === 'A' ? 'B' : 'A') + forgedLine.slice(at + 1);
      fs.writeFileSync(path.join(dir, 'forged.json'), JSON.stringify(forged));
      const forgedRun = await fp(['verify', path.join(dir, 'forged.json')], {});
      expect(forgedRun.code, forgedRun.stdout).toBe(1);
      expect(forgedRun.stdout).toMatch(/^failed {4}cosignature:/m);

      // ?format=v1, as the unit's api, for older verifiers: the cosignature line rides in the note.
      const v1Res = await get(`/evidence/${raw.id}/receipt?format=v1`);
      expect(v1Res.status).toBe(200);
      const v1 = (await v1Res.json()) as Receipt;
      expect(v1.format).toBe('fieldproof-receipt/v1');
      expect(v1.leaf.leafHash).toBe((leafStep as { leafHash: string }).leafHash);
      expect(v1.checkpoint.note).toBe(note + line);
      verifyCosignature(v1.checkpoint.note, witnessKey);
      fs.writeFileSync(path.join(dir, 'v1.json'), JSON.stringify(v1));
      const v1Run = await fp(
        [
          'verify',
          path.join(dir, 'v1.json'),
          '--content',
          path.join(dir, 'content.bin'),
          '--expect-key',
          verifierKey,
        ],
        {},
      );
      expect(v1Run.code, v1Run.stdout + v1Run.stderr).toBe(0);
      expect(v1Run.stdout).toMatch(/format: fieldproof-receipt\/v1/);
      expect((await get(`/evidence/${raw.id}/receipt?format=v3`)).status).toBe(400);
      fs.writeFileSync(path.join(dir, 'content.bin'), 'other bytes');
      const tampered = await fp(['verify', file, '--content', path.join(dir, 'content.bin')], {});
      expect(tampered.code).not.toBe(0);
    } finally {
      await collector.close();
    }
  }, 120_000);
});

describe(`a unit that forks its own log (${engine})`, () => {
  it('restored from an old backup, records other evidence and pushes: 409, never cosigned, both checkpoints kept', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const collector = await createTestCollector(await collectorDatabaseUrl(engine), { logger });
    try {
      const url = await listening(collector);
      const origin = 'fieldproof.test/log/fork-unit';
      const unit = new PushingUnit(origin, { url, pushKey: '', witnessKey: collector.cosigner.verifierKey });
      const pushKey = await collector.enroll({ origin, key: { verifierKey: unit.device.verifierKey } });
      fs.writeFileSync(path.join(unit.dir, 'collector.key'), `${pushKey}\n`, { mode: 0o600 });
      await unit.open();
      await unit.record(6, 'before');
      await unit.push();
      const archive = path.join(tempDir('fieldproof-fork-'), 'old.tar');
      const backup = await fp(['backup', '--out', archive, '--no-key'], unit.env);
      expect(backup.code, backup.stderr).toBe(0);
      await unit.record(4, 'honest');
      await unit.push();
      const head = async () =>
        (
          await collector.app.inject({
            method: 'GET',
            url: devicePath(origin),
            headers: { authorization: `Bearer ${pushKey}` },
          })
        ).json<{ treeSize: number; checkpoint: string }>();
      const honest = await head();
      expect(honest.treeSize).toBe(10);

      // The operator restores the old backup and the unit records other evidence: a second history.
      await unit.close();
      const restored = await fp(['restore', archive], unit.env);
      expect(restored.code, restored.stdout + restored.stderr).toBe(0);
      await unit.open();
      await unit.record(5, 'forked'); // sizes 6 → 11, signed by the same key
      await unit.push();

      const after = await head();
      expect(after).toEqual(honest); // the fork was not mirrored
      const checkpoints = await collector.collector.db
        .selectFrom('device_checkpoints')
        .select('tree_size')
        .execute();
      expect(checkpoints.map((c) => Number(c.tree_size)).sort((a, b) => a - b)).toEqual([6, 10]); // never 11
      const list = await collector.app.inject({ method: 'GET', url: devicePath(origin, '/equivocations') });
      const forks = list.json<{ equivocations: Record<string, unknown>[] }>().equivocations;
      expect(forks).toHaveLength(1);
      expect(forks[0]).toMatchObject({ reason: 'not_consistent', heldTreeSize: 10, pushedTreeSize: 11 });
      // Both are checkpoints the unit's own key signed: the proof a witness publishes.
      expect(forks[0]!.heldCheckpoint).toBe(honest.checkpoint);
      expect(openNote(forks[0]!.heldCheckpoint as string, unit.device.verifierKey).text).toContain('\n10\n');
      expect(openNote(forks[0]!.pushedCheckpoint as string, unit.device.verifierKey).text).toContain(
        '\n11\n',
      );
      const metrics = await collector.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/^fieldproof_collector_equivocations_total 1$/m);
      const errorLine = lines
        .map((l) => JSON.parse(l) as { level: number; msg: string; origin?: string })
        .find((l) => l.msg.startsWith('equivocation:'));
      expect(errorLine).toMatchObject({ level: 50, origin });
      // The unit stopped pushing to this collector and says why.
      const state = await unit.database.db
        .selectFrom('collector_push_state')
        .selectAll()
        .executeTakeFirstOrThrow();
      expect(state.last_error).toMatch(/409 FP_EQUIVOCATION/);
      await unit.close();
    } finally {
      await collector.close();
    }
  }, 120_000);
});
