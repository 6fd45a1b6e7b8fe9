import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, newId } from '@fieldproof/db';
import type { Database } from '@fieldproof/db';
import { FIELDPROOF_BIN, spawnApi, type ApiProcess } from './support/api-process.js';
import { tempDir } from './support/databases.js';
import { freePort } from './support/hardhat.js';
import { runNode } from './support/processes.js';
import { waitFor } from './support/wait-for.js';
import { OFFLINE_LINKS_OK } from './support/receipt-links.js';

/**
 * The operator console in a real browser (issue 17): Debian's chromium driven by playwright-core, against
 * a real `fieldproof api` and `fieldproof keeper` (the BUILT cli) on one SQLite file. Screenshots go to
 * test-artifacts/console/ (git-ignored). Also `fieldproof status`, on the same unit.
 */
// Browser globals used inside page.evaluate callbacks (they run in chromium, not here).
declare const window: {
  innerWidth: number;
  axe: {
    run(
      context: unknown,
    ): Promise<{ violations: { id: string; impact?: string | null; nodes: unknown[] }[] }>;
  };
};
declare const document: { documentElement: { scrollWidth: number } };
declare class DataTransfer {
  items: { add(file: File): void };
}

/** Attributes and text of the elements matching `selector`, read in the page. */
async function elements(
  p: Page,
  selector: string,
): Promise<{ attrs: Record<string, string>; text: string }[]> {
  return p.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => ({` +
      'attrs: Object.fromEntries([...e.attributes].map((a) => [a.name, a.value])), text: e.textContent.trim() }))',
  );
}

const CHROMIUM = process.env.FIELDPROOF_TEST_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `[fieldproof] browser tests SKIPPED: no chromium at ${CHROMIUM} (apt-get install -y chromium, or set FIELDPROOF_TEST_CHROMIUM)`,
  );
}
const ARTIFACTS = path.resolve('test-artifacts/console');

let dir: string;
let env: Record<string, string>;
let api: ApiProcess;
let keeper: ReturnType<typeof spawn> | undefined;
let key: string;
let database: Database;
let receipt: Record<string, unknown>;
const content = new TextEncoder().encode('the evidence file, byte for byte\n');

const bearer = () => ({ authorization: `Bearer ${key}` });
async function getJson<T = Record<string, unknown>>(route: string): Promise<T> {
  const res = await fetch(`${api.address}${route}`, { headers: bearer() });
  expect(res.status, route).toBe(200);
  return (await res.json()) as T;
}
const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  dir = tempDir('fieldproof-console-');
  const keeperPort = await freePort();
  env = {
    API_DB_URL: `sqlite://${path.join(dir, 'fieldproof.sqlite3')}`,
    KEEPER_DB_URL: '',
    FIELDPROOF_DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: 'warn',
    KEEPER_POLL_MS: '100',
    KEEPER_HTTP_PORT: String(keeperPort),
  };
  const created = await runNode(
    [FIELDPROOF_BIN, 'keys', 'create', '--scopes', 'read,write,admin', '--json'],
    env,
  );
  expect(created.code, created.stderr).toBe(0);
  key = (JSON.parse(created.stdout) as { key: string }).key;
  api = await spawnApi({ ...env, LOG_LEVEL: 'info' });
  env.API_PORT = new URL(api.address).port;
  keeper = spawn(process.execPath, [FIELDPROOF_BIN, 'keeper'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });

  // Records through the api, one with its content; the keeper sequences them and signs a checkpoint.
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const digest = i === 0 ? sha256Hex(content) : sha256Hex(new TextEncoder().encode(`record ${i}`));
    const res = await fetch(`${api.address}/v1/evidence`, {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ digest, kind: 'photo', occurredAt: Date.now() }),
    });
    expect(res.status).toBe(201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  receipt = await waitFor(
    'the keeper to sequence the four records',
    async () => {
      const res = await fetch(`${api.address}/v1/evidence/${ids[0]}/receipt?format=v1`, {
        headers: bearer(),
      });
      if (res.status !== 200) return undefined;
      const found = (await res.json()) as Record<string, unknown>;
      return (found.checkpoint as { treeSize: number }).treeSize === 4 ? found : undefined;
    },
    { intervalMs: 100 },
  );
  // A job dead-lettered on a chain this keeper does not run (no worker will touch it once re-queued).
  database = createDatabase({
    engine: 'sqlite',
    url: env.API_DB_URL!,
    path: path.join(dir, 'fieldproof.sqlite3'),
  } as never);
  const now = Date.now();
  await database.db
    .insertInto('anchor_jobs')
    .values({
      id: newId(),
      chain: 'sepolia',
      chain_id: 11155111,
      tree_size: 4,
      state: 'dead',
      attempts: 12,
      next_attempt_at: 0,
      lease_owner: null,
      lease_expires_at: null,
      lease_token: 0,
      last_error: 'insufficient funds for gas * price + value',
      created_at: now - 60_000,
      updated_at: now - 30_000,
    })
    .execute();
}, 120_000);

afterAll(async () => {
  await database?.close();
  for (const child of [api?.child, keeper]) {
    if (child === undefined || child.exitCode !== null) continue;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  }
});

describe('fieldproof status', () => {
  it(
    'exits 1 naming the dead job, 0 once nothing needs attention, 3 without a database',
    { timeout: 90_000 },
    async () => {
      const first = await runNode([FIELDPROOF_BIN, 'status'], env);
      expect(first.code, first.stdout + first.stderr).toBe(1);
      expect(first.stdout).toMatch(/^api +http:\/\/127\.0\.0\.1:\d+ {2}ready$/m);
      expect(first.stdout).toMatch(/^keeper +http:\/\/127\.0\.0\.1:\d+ {2}ready$/m);
      expect(first.stdout).toMatch(/^attention +1 dead-lettered anchor job\(s\)/m);
      expect(first.stdout).toMatch(/^attention +no backup in /m);
      expect(first.stdout).toMatch(
        /^records +4 received, 4 in the last hour, 4 in 24 h; sequencer backlog 0$/m,
      );

      const json = await runNode([FIELDPROOF_BIN, 'status', '--json'], env);
      expect(json.code).toBe(1);
      const parsed = JSON.parse(json.stdout) as { attention: string[]; checkpoint: { treeSize: number } };
      expect(parsed.checkpoint.treeSize).toBe(4);
      expect(parsed.attention).toHaveLength(2);

      // Fix both: a backup, and the dead job moved out of the way (as a retry would).
      const backup = await runNode([FIELDPROOF_BIN, 'backup'], env);
      expect(backup.code, backup.stderr).toBe(0);
      await database.db
        .updateTable('anchor_jobs')
        .set({ state: 'final' })
        .where('state', '=', 'dead')
        .execute();
      const fine = await runNode([FIELDPROOF_BIN, 'status'], env);
      expect(fine.code, fine.stdout).toBe(0);
      expect(fine.stdout).toMatch(/^attention +none$/m);
      await database.db
        .updateTable('anchor_jobs')
        .set({ state: 'dead' })
        .where('chain', '=', 'sepolia')
        .execute();

      const none = await runNode([FIELDPROOF_BIN, 'status'], {
        ...env,
        API_DB_URL: `sqlite://${path.join(dir, 'missing', 'x.sqlite3')}`,
      });
      expect(none.code, none.stderr).toBe(3);
      expect(none.stderr).toMatch(/^fieldproof status: cannot read the unit's database/);
    },
  );
});

describe.skipIf(!haveChromium)('the console in chromium', () => {
  it(
    "signs in, shows the API's numbers, retries a dead job, verifies dropped receipts, passes axe",
    { timeout: 180_000 },
    async () => {
      const { chromium } = await import('playwright-core');
      const axe = (await import('axe-core')).default;
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await context.newPage();
        const external: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith(api.address) && !r.url().startsWith('data:')) external.push(r.url());
        });

        // Sign in.
        const login = await page.goto(`${api.address}/console`);
        expect(login?.status()).toBe(200);
        await page.fill('#key', key);
        await Promise.all([page.waitForURL(`${api.address}/console`), page.click('button[type=submit]')]);
        await page.waitForSelector('#records');
        const size = Buffer.byteLength(await page.content());
        expect(size).toBeLessThan(150 * 1024);
        const cookies = await context.cookies();
        expect(cookies.find((c) => c.name === 'fp_console')).toMatchObject({
          httpOnly: true,
          sameSite: 'Strict',
        });

        // Every number on the page is what the API answers.
        const shown = (await elements(page, '[data-k]')).map((e) => ({
          k: e.attrs['data-k']!,
          v: e.attrs['data-v'] ?? e.text,
          href: e.attrs.href ?? null,
        }));
        const status = await getJson<{
          records: { total: number; lastHour: number; lastDay: number };
          disk: { freeBytes: number; bytesPerDay: number; headroomDays: number | null };
          backup: { newest: { file: string } | null };
        }>('/v1/status');
        const outbox = await getJson<{
          sequenceBacklog: number;
          chains: {
            chain: string;
            byState: Record<string, number>;
            oldestPending: { treeSize: number } | null;
          }[];
          dead: { total: number };
        }>('/v1/outbox?deadLimit=20');
        const checkpoint = await getJson<{ treeSize: number }>('/v1/log/checkpoint');
        const expected: Record<string, string> = {
          'records.total': String(status.records.total),
          'records.lastHour': String(status.records.lastHour),
          'records.lastDay': String(status.records.lastDay),
          'outbox.sequenceBacklog': String(outbox.sequenceBacklog),
          'outbox.dead.total': String(outbox.dead.total),
          'checkpoint.treeSize': String(checkpoint.treeSize),
          'checkpoint.cosignatures': '0',
          'backup.newest': status.backup.newest?.file ?? '',
          'disk.bytesPerDay': String(status.disk.bytesPerDay),
          'keeper.ready': 'true',
          'clock.ok': 'true',
        };
        for (const c of outbox.chains) {
          for (const [state, n] of Object.entries(c.byState))
            expected[`anchors.${c.chain}.${state}`] = String(n);
          if (c.oldestPending !== null)
            expected[`anchors.${c.chain}.oldestPendingTreeSize`] = String(c.oldestPending.treeSize);
        }
        // Free space moves with every write on the machine: equal within 1 %, not to the byte.
        const free = shown.filter((s) => s.k === 'disk.freeBytes' || s.k === 'disk.headroomDays');
        expect(Number(free[0]!.v) / status.disk.freeBytes).toBeCloseTo(1, 2);
        expect(Number(free[1]!.v) / status.disk.headroomDays!).toBeCloseTo(1, 2);
        const numbers = shown.filter((s) => s.k !== 'attention' && !free.includes(s));
        expect(Object.fromEntries(numbers.map((s) => [s.k, s.v]))).toEqual(expected);
        expect(expected['records.total']).toBe('4');
        expect(expected['anchors.sepolia.dead']).toBe('1');
        // Each linked number opens the JSON behind it, with the session cookie.
        for (const s of numbers.filter((n) => n.href !== null)) {
          const res = await page.request.get(`${api.address}${s.href}`);
          expect(res.status(), s.href!).toBe(200);
        }
        await page.screenshot({ path: path.join(ARTIFACTS, 'console-desktop.png'), fullPage: true });
        await page.setViewportSize({ width: 390, height: 844 });
        await page.screenshot({ path: path.join(ARTIFACTS, 'console-phone.png'), fullPage: false });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow).toBeLessThanOrEqual(0); // no sideways scrolling on a phone
        await page.setViewportSize({ width: 1280, height: 900 });

        // Accessibility: axe-core, no serious or critical violations.
        await page.evaluate(axe.source);
        const violations = await page.evaluate(async () => {
          const result = await window.axe.run(document);
          return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
        });
        expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

        // Retry the dead-lettered job.
        const jobId = await page.getAttribute('[data-job]', 'data-job');
        await Promise.all([page.waitForURL(/notice=/), page.click(`[data-job="${jobId}"] button`)]);
        expect(await page.textContent('.notice')).toContain(`Re-queued anchor job ${jobId}`);
        const after = await getJson<{ chains: { chain: string; byState: Record<string, number> }[] }>(
          '/v1/outbox',
        );
        expect(after.chains.find((c) => c.chain === 'sepolia')!.byState).toMatchObject({
          dead: 0,
          pending: 1,
        });
        expect(await page.textContent('[data-k="anchors.sepolia.pending"]')).toBe('1');

        // The verifier: drop files on the page.
        const drop = async (files: { name: string; type: string; text: string }[]) => {
          const dt = await page.evaluateHandle((fs) => {
            const transfer = new DataTransfer();
            for (const f of fs) transfer.items.add(new File([f.text], f.name, { type: f.type }));
            return transfer;
          }, files);
          await page.dispatchEvent('[data-drop]', 'drop', { dataTransfer: dt });
          await page.waitForSelector('[data-verifier-output] .verdict');
          return (await elements(page, '[data-verifier-output] li')).map((li) => ({
            link: li.attrs['data-link'],
            status: li.attrs['data-status'],
            text: li.text,
          }));
        };
        const good = await drop([
          { name: 'receipt.json', type: 'application/json', text: JSON.stringify(receipt) },
          { name: 'photo.jpg', type: 'image/jpeg', text: new TextDecoder().decode(content) },
        ]);
        expect(good.map((l) => [l.link, l.status])).toEqual([...OFFLINE_LINKS_OK]);
        expect(good[2]!.text).toMatch(/^ok {8}leaf: leaf hash [0-9a-f]{64} rebuilt from the evidence/);
        expect(await page.getAttribute('[data-verifier-output] .verdict', 'data-ok')).toBe('true');
        await page.locator('#verifier').screenshot({ path: path.join(ARTIFACTS, 'verifier-ok.png') });

        const tampered = structuredClone(receipt) as { evidence: { kind: string } };
        tampered.evidence.kind = 'video';
        const bad = await drop([
          { name: 'tampered.json', type: 'application/json', text: JSON.stringify(tampered) },
        ]);
        expect(bad.find((l) => l.link === 'leaf')!.status).toBe('failed');
        expect(await page.textContent('[data-verifier-output] .verdict')).toContain('FAILED — broken: leaf');
        expect(external).toEqual([]);

        // /docs opens in the same browser, behind the session.
        const docs = await page.goto(`${api.address}/docs`);
        expect(docs?.status()).toBe(200);
        await page.waitForSelector('.swagger-ui', { timeout: 30_000 });

        // Saved to a laptop with no network: the verifier page alone, from a file.
        const saved = path.join(dir, 'fieldproof-verifier.html');
        fs.writeFileSync(saved, await (await fetch(`${api.address}/console/verifier`)).text());
        const offline = await browser.newContext({ offline: true });
        const off = await offline.newPage();
        const requests: string[] = [];
        off.on('request', (r) => requests.push(r.url()));
        await off.goto(`file://${saved}`);
        await off.waitForSelector('[data-verifier][data-ready="true"]');
        const dt = await off.evaluateHandle((text) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([text], 'receipt.json', { type: 'application/json' }));
          return transfer;
        }, JSON.stringify(receipt));
        await off.dispatchEvent('[data-drop]', 'drop', { dataTransfer: dt });
        await off.waitForSelector('[data-verifier-output] .verdict');
        expect(await off.getAttribute('[data-verifier-output] .verdict', 'data-ok')).toBe('true');
        expect(requests).toEqual([`file://${saved}`]);
        await offline.close();
      } finally {
        await browser.close();
      }
    },
  );
});
