import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDatabase, enqueueEvidence } from '@fieldproof/db';
import { targetOf, tempDir } from './support/databases.js';
import { freePort } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { waitFor } from './support/wait-for.js';
import { insertEvidenceRow } from './support/evidence-rows.js';

// Runs the BUILT keeper (`npm run build` first; `npm test` does it).
const BIN = fileURLToPath(new URL('../packages/cli/bin/fieldproof.js', import.meta.url));

function deviceEnv(dir: string) {
  return {
    API_DB_URL: `sqlite://${path.join(dir, 'fieldproof.sqlite3')}`,
    KEEPER_DB_URL: '',
    FIELDPROOF_DATA_DIR: dir,
    KEEPER_PROVIDER: 'stub',
    KEEPER_CHAINS: '',
    FIELDPROOF_LOG_ORIGIN: '',
    FIELDPROOF_DEVICE_KEY: '',
    FIELDPROOF_DEVICE_KEY_FILE: '',
    LOG_LEVEL: 'info',
  };
}

function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  return waitFor('the keeper process', probe, { timeoutMs, intervalMs: 50 });
}

describe('fieldproof keeper (process)', () => {
  it('serves health, sequences, keeps the key out of its logs, and exits 0 on SIGTERM', async () => {
    const dir = tempDir();
    const port = await freePort();
    const env = { ...deviceEnv(dir), KEEPER_HTTP_PORT: String(port), KEEPER_POLL_MS: '50' };
    const child = spawn(process.execPath, [BIN, 'keeper'], { cwd: dir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      await until(async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined));
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        ok: true,
        checks: { database: { ok: true }, migrations: { ok: true } },
      });
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^fieldproof_sequence_backlog 0$/m);

      // Evidence committed by another process (as the api does) is sequenced by the running keeper.
      const database = createDatabase(targetOf(env.API_DB_URL));
      try {
        await database.db.transaction().execute(async (trx) => {
          for (let i = 0; i < 3; i++) {
            const { id } = await insertEvidenceRow(trx, { digest: `${i}`.repeat(64) });
            await enqueueEvidence(trx, [{ id, received_at: 2 }]);
          }
        });
      } finally {
        await database.close();
      }
      await until(async () =>
        /^fieldproof_log_tree_size 3$/m.test(await (await fetch(`${base}/metrics`)).text())
          ? true
          : undefined,
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(
      lines.some(
        (l) =>
          l.level === 40 &&
          /^KEEPER_PROVIDER=stub: checkpoints are NOT anchored on any chain and never final/.test(l.msg),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.msg === 'device key created')).toBe(true);
    expect(lines.some((l) => l.msg === 'sequenced a batch and signed its checkpoint')).toBe(true);
    expect(lines.at(-1)?.msg).toBe('keeper stopped');
    const keyFile = path.join(dir, 'device.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(keyFile, 'utf8').trim().split('+').slice(4).join('+');
    expect(secret).toMatch(/^[A-Za-z0-9+/]{44}$/);
    expect(stdout).not.toContain(secret);
  });

  it('refuses a key file readable by group (0640): one line on stderr, exit 2', async () => {
    const dir = tempDir();
    const env = { ...deviceEnv(dir), KEEPER_HTTP_PORT: String(await freePort()) };
    const device = await runNode([BIN, 'device'], env, { cwd: dir });
    expect(device.code).toBe(0);
    fs.chmodSync(path.join(dir, 'device.key'), 0o640);
    const result = await runNode([BIN, 'keeper'], env, { cwd: dir, timeoutMs: 20_000 });
    expect(result.code).toBe(2); // refused: a restart cannot fix it (README "Exit status")
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^fieldproof keeper: refusing to start: device key file .*device\.key: mode 0640/,
    );
  });

  it('fieldproof device prints the verifier key and origin; a changed origin is refused by the keeper', async () => {
    const dir = tempDir();
    const env = deviceEnv(dir);
    const json = await runNode([BIN, 'device', '--json'], env, { cwd: dir });
    expect(json.code).toBe(0);
    const shown = JSON.parse(json.stdout) as Record<string, string>;
    expect(shown).toMatchObject({
      origin: expect.stringMatching(/^fieldproof\.local\/log\/[0-9a-f]{16}$/) as string,
      verifierKey: expect.stringMatching(/^fieldproof-device\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/) as string,
      keyName: 'fieldproof-device',
      keySource: 'file',
      keyFile: path.join(dir, 'device.key'),
    });
    const text = await runNode([BIN, 'device'], env, { cwd: dir });
    expect(text.stdout).toContain(`origin        ${shown.origin}`);
    expect(text.stdout).toContain(`verifier key  ${shown.verifierKey}`);

    const moved = {
      ...env,
      FIELDPROOF_LOG_ORIGIN: 'example.com/log/other',
      KEEPER_HTTP_PORT: String(await freePort()),
    };
    const refused = await runNode([BIN, 'keeper'], moved, { cwd: dir, timeoutMs: 20_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/origin "example\.com\/log\/other" differs from this log's origin/);
  });

  it('keeper and device have --help with an example', async () => {
    for (const command of ['keeper', 'device']) {
      const result = await runNode([BIN, command, '--help'], {}, {});
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Usage:[\s\S]*Example:\n {2}\S+/);
    }
  });
});
