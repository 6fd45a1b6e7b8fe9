import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseCosignerKey, parseVerifierKey, verifyCosignature } from '@fieldproof/note';
import { SimulatedUnit, devicePath } from '../packages/collector/test/support.js';
import { FIELDPROOF_BIN } from './support/api-process.js';
import { freshDatabaseUrl, tempDir, testEngines } from './support/databases.js';
import { runNode } from './support/processes.js';

const fp = (args: string[], env: Record<string, string>) => runNode([FIELDPROOF_BIN, ...args], env);

/** The engine the cross-process test runs on: PostgreSQL when configured (the collector's normal engine). */
const engine = testEngines().at(-1)!;

describe(`fieldproof collector, collector-key and devices (${engine}, real processes)`, () => {
  it('creates the witness key 0600, enrolls a unit, mirrors a gzip push over HTTP and cosigns it', async () => {
    const dir = tempDir('fieldproof-collector-cli-');
    const env = { COLLECTOR_DB_URL: await freshDatabaseUrl(engine), COLLECTOR_DATA_DIR: dir };

    const key = await fp(['collector-key', '--json'], env);
    expect(key.code, key.stderr).toBe(0);
    const witness = JSON.parse(key.stdout) as { verifierKey: string; keyFile: string; fleetKey: string };
    expect(witness.keyFile).toBe(path.join(dir, 'witness.key'));
    expect(fs.statSync(witness.keyFile).mode & 0o777).toBe(0o600);
    expect(parseCosignerKey(witness.verifierKey).name).toBe('fieldproof-collector');
    // The same key as a note signer (0x01): what signs fleet checkpoints, pinned by units as `fleetKey`.
    const fleetKey = parseVerifierKey(witness.fleetKey);
    expect(fleetKey.name).toBe('fieldproof-collector');
    expect(Buffer.from(fleetKey.publicKey)).toEqual(
      Buffer.from(parseCosignerKey(witness.verifierKey).publicKey),
    );
    const again = await fp(['collector-key', '--json'], env);
    expect(JSON.parse(again.stdout)).toEqual(witness); // the same key on every start

    const unit = new SimulatedUnit();
    const added = await fp(
      ['devices', 'add', '--origin', unit.origin, '--key', unit.key.verifierKey, '--json'],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    const pushKey = (JSON.parse(added.stdout) as { key: string }).key;
    expect(pushKey).toMatch(/^fp_[A-Za-z0-9_-]{43}$/);
    const twice = await fp(['devices', 'add', '--origin', unit.origin, '--key', unit.key.verifierKey], env);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already enrolled/);
    const badKey = await fp(['devices', 'add', '--origin', 'x.test/log', '--key', 'nonsense'], env);
    expect(badKey.stderr).toMatch(/not an Ed25519 verifier key/);

    const child = spawn(process.execPath, [FIELDPROOF_BIN, 'collector'], {
      env: { ...process.env, ...env, COLLECTOR_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const address = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`collector did not start:\n${out}`)), 30_000);
        const onData = (d: Buffer) => {
          out += d.toString();
          const match = /"address":"(http:\/\/[^"]+)".*"msg":"collector listening"/.exec(out);
          if (match !== null) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
      });
      unit.record(9);
      const res = await fetch(`${address}${devicePath(unit.origin, '/push')}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${pushKey}`,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        },
        body: gzipSync(JSON.stringify(unit.push())),
      });
      expect(res.status).toBe(200);
      const accepted = (await res.json()) as { treeSize: number; cosignature: string };
      expect(accepted.treeSize).toBe(9);
      verifyCosignature(unit.checkpoints.get(9)! + accepted.cosignature, witness.verifierKey);

      const list = await fp(['devices', 'list', '--json'], env);
      expect(JSON.parse(list.stdout)).toMatchObject([{ origin: unit.origin, treeSize: 9, revokedAt: null }]);
      expect(list.stdout).not.toContain('fp_');
      expect((await fp(['devices', 'revoke', unit.origin], env)).code).toBe(0);
      unit.record(1);
      const refused = await fetch(`${address}${devicePath(unit.origin, '/push')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pushKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(unit.push({ proofFrom: 9 })),
      });
      expect(refused.status).toBe(401);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).toMatch(/"msg":"collector stopped"/);
  }, 120_000); // eight process starts: slow on a loaded machine

  it('with fleet anchoring but no signer key: exit 2 (refused), one line naming the setting', async () => {
    const env = {
      COLLECTOR_DB_URL: await freshDatabaseUrl(engine),
      COLLECTOR_DATA_DIR: tempDir('fieldproof-collector-cli-'),
      COLLECTOR_PORT: '0',
      KEEPER_PROVIDER: 'evm',
      KEEPER_CHAINS: JSON.stringify([{ name: 'local', rpcUrl: 'http://127.0.0.1:9', chainId: 31337 }]),
    };
    const result = await fp(['collector'], env);
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^fieldproof collector: refusing to start: fleet anchoring: KEEPER_SIGNER_KEY_FILE: not set/,
    );
  });
});
