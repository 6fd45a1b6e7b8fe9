import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/databases.js';
import {
  HARDHAT_ACCOUNTS,
  freePort,
  startHardhatNode,
  type ChainTx,
  type HardhatNode,
} from '../support/hardhat.js';
import { FIELDPROOF_BIN } from '../support/api-process.js';
import { runNode } from '../support/processes.js';
import { checkAnchors, checkDatabase, lostContent } from './drill-checks.js';
import { startLoad, type Acknowledged } from './drill-load.js';
import { lazyFsUnavailable, mountLazyFs, type LazyFs } from './lazy-fs.js';

/**
 * The power-loss drill (docs/DRILL.md): `fieldproof api` and `fieldproof keeper`, built, on one SQLite
 * file, their database and content store on the fault-injecting layer (test/drill/lazyfs.py), anchoring
 * on a local hardhat chain. Each round: start both, write under concurrent load (JSON digest records and
 * raw uploads), cut power at a random moment, bring the layer back, check what the disk kept. At the end
 * the keeper catches up and everything is checked once more.
 *
 * Run by `npm run drill [-- --cuts N] [-- --synchronous FULL|NORMAL|OFF]` (test/drill/run-drill.mjs),
 * which passes DRILL_CUTS, DRILL_SEED and FIELDPROOF_SQLITE_SYNCHRONOUS. At FULL (and EXTRA) it passes
 * when nothing acknowledged was lost and nothing is inconsistent; at NORMAL and OFF it passes when it
 * caught a loss — a drill that cannot fail proves nothing.
 */
const CUTS = Number(process.env.DRILL_CUTS ?? 30);
const SYNCHRONOUS = (process.env.FIELDPROOF_SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
const SEED = Number(process.env.DRILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MUST_KEEP_ALL = SYNCHRONOUS === 'FULL' || SYNCHRONOUS === 'EXTRA';
const SIGNER = HARDHAT_ACCOUNTS[1];
/** Share of cuts that land while the processes start (migrations, WAL recovery), not under load. */
const CUT_WHILE_STARTING = 0.15;
const unavailable = lazyFsUnavailable();

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
}

describe.skipIf(unavailable !== undefined)('the power-loss drill', () => {
  it(
    `loses nothing acknowledged over ${CUTS} power cuts at synchronous=${SYNCHRONOUS}`,
    async () => {
      const random = mulberry32(SEED);
      const dir = tempDir('fieldproof-drill-');
      const startedAt = Date.now();
      let layer: LazyFs | undefined;
      let chain: HardhatNode | undefined;
      const running: Running[] = [];
      const log = (line: string) => console.log(`[drill] ${line}`);
      try {
        [layer, chain] = await Promise.all([
          mountLazyFs({ backing: path.join(dir, 'backing'), mountPoint: path.join(dir, 'mnt') }),
          startHardhatNode(),
        ]);
        const dataDir = layer.mountPoint;
        const dbFile = path.join(dataDir, 'fieldproof.sqlite3');
        const [apiPort, keeperPort] = [await freePort(), await freePort()];
        const env = processEnv({ dbFile, dataDir, apiPort, keeperPort, rpcUrl: chain.url });
        const base = `http://127.0.0.1:${apiPort}`;
        const keysArgs = [FIELDPROOF_BIN, 'keys', 'create', '--scopes', 'read,write', '--json'];
        const keys = await runNode(keysArgs, env, { cwd: dir });
        expect(keys.code, keys.stderr).toBe(0);
        const apiKey = (JSON.parse(keys.stdout) as { key: string }).key;
        await layer.sync(); // an installed unit: its empty database is on the disk before the first cut
        log(`synchronous=${SYNCHRONOUS}, ${CUTS} cuts, seed ${SEED}, folder ${dir}`);

        const start = (name: 'api' | 'keeper'): Running => {
          const child = spawn(process.execPath, [FIELDPROOF_BIN, name], {
            cwd: dir, // not on the mount: a cwd there would keep it busy
            env: { ...process.env, ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let output = '';
          const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8_000));
          child.stdout.on('data', keep);
          child.stderr.on('data', keep);
          const proc = { child, output: () => output };
          running.push(proc);
          return proc;
        };
        const startBoth = async (): Promise<Running[]> => [start('api'), start('keeper')];
        const healthy = async (procs: Running[]) => {
          await waitHealthy(`${base}/healthz`, procs[0]!);
          await waitHealthy(`http://127.0.0.1:${keeperPort}/healthz`, procs[1]!);
        };

        const acknowledged: Acknowledged[] = [];
        const lost = new Map<string, Acknowledged>();
        const problems: string[] = [];
        const chainTxs: ChainTx[] = [];
        const anchorCheck = async (recorded: ReadonlySet<string>) => {
          const from = chainTxs.length === 0 ? 0 : chainTxs[chainTxs.length - 1]!.blockNumber + 1;
          chainTxs.push(...(await chain!.transactionsFrom(SIGNER.address, from)));
          return checkAnchors(chainTxs, recorded);
        };

        for (let cut = 1; cut <= CUTS; cut++) {
          const roundStart = Date.now();
          const procs = await startBoth();
          let epoch: Acknowledged[] = [];
          let when: string;
          if (random() < CUT_WHILE_STARTING) {
            const ms = Math.floor(random() * 1500);
            await sleep(ms);
            when = `${ms} ms into start-up`;
          } else {
            try {
              await healthy(procs);
            } catch (err) {
              problems.push(`after cut ${cut - 1}: ${(err as Error).message}`);
              break;
            }
            const load = startLoad({
              base,
              apiKey,
              digestClients: 8,
              uploadClients: 2,
              maxUploadBytes: 16_384,
            });
            const ms = 300 + Math.floor(random() * 2500);
            await sleep(ms);
            await layer.powerCut(procs.map((p) => p.child));
            const result = await load.stop();
            epoch = result.acknowledged;
            problems.push(...result.anomalies);
            when = `${ms} ms under load`;
          }
          if (layer.cuts < cut) await layer.powerCut(procs.map((p) => p.child));
          running.length = 0;
          acknowledged.push(...epoch);
          const checkStart = Date.now();

          const db = checkDatabase(dbFile, acknowledged);
          const content = lostContent(dataDir, epoch);
          const anchors = await anchorCheck(db.anchorTxHashes);
          for (const a of [...db.lost, ...content]) lost.set(a.id, a);
          problems.push(...db.problems.map((p) => `cut ${cut}: ${p}`));
          problems.push(
            ...anchors.untracked.map((h) => `cut ${cut}: anchor transaction ${h} is not in anchor_txs`),
          );
          const uploads = epoch.filter((a) => a.upload).length;
          log(
            `cut ${cut}/${CUTS} (${when}): +${epoch.length} acknowledged (${epoch.length - uploads} records, ` +
              `${uploads} uploads); lost so far ${lost.size}; ${db.leaves} leaves, ${db.checkpoints} checkpoints, ` +
              `${anchors.onChain} anchors on chain; round ${seconds(roundStart)} s, check ${seconds(checkStart)} s` +
              `${db.problems.length > 0 ? `; ${db.problems.join('; ')}` : ''}`,
          );
        }

        // Power stays on: the keeper catches up and anchors the rest; then an orderly stop and the last checks.
        const procs = await startBoth();
        let settled = false;
        try {
          await healthy(procs);
          settled = await caughtUp(dbFile, 120_000);
          if (!settled) problems.push('the keeper did not sequence and anchor everything within 120 s');
        } catch (err) {
          problems.push(`after the last cut: ${(err as Error).message}`);
        }
        await Promise.all(procs.map((p) => stopGently(p.child)));
        running.length = 0;
        const db = checkDatabase(dbFile, acknowledged);
        const content = lostContent(dataDir, acknowledged);
        const anchors = await anchorCheck(db.anchorTxHashes);
        for (const a of [...db.lost, ...content]) lost.set(a.id, a);
        problems.push(...db.problems.map((p) => `at the end: ${p}`));
        problems.push(...anchors.sentTwice.map((s) => `checkpoint ${s} was anchored more than once`));
        problems.push(
          ...anchors.untracked.map((h) => `at the end: anchor transaction ${h} is not in anchor_txs`),
        );

        const uploads = acknowledged.filter((a) => a.upload).length;
        const lostUploads = [...lost.values()].filter((a) => a.upload).length;
        const stats = await layer.stats();
        log(
          `synchronous=${SYNCHRONOUS}: ${layer.cuts} cuts, ${acknowledged.length} writes acknowledged ` +
            `(${acknowledged.length - uploads} records, ${uploads} uploads), lost ${lost.size} ` +
            `(${lost.size - lostUploads} records, ${lostUploads} uploads); ${db.leaves} leaves, ` +
            `${db.checkpoints} checkpoints, ${anchors.onChain} anchors on chain, ` +
            `${anchors.sentTwice.length} sent twice, ${anchors.untracked.length} untracked; ` +
            `${problems.length} other findings; ${Math.round((Date.now() - startedAt) / 1000)} s, seed ${SEED}`,
        );
        log(`layer since the last mount: ${JSON.stringify(stats)}`);
        for (const p of problems.slice(0, 20)) log(`finding: ${p}`);

        if (MUST_KEEP_ALL) {
          expect([...lost.values()].slice(0, 10), 'acknowledged writes lost').toEqual([]);
          expect(problems).toEqual([]);
          expect(settled).toBe(true);
          expect(acknowledged.length).toBeGreaterThan(0);
        } else {
          expect(
            lost.size + problems.length,
            'the drill caught nothing at a setting that loses commits',
          ).toBeGreaterThan(0);
        }
      } finally {
        await Promise.all(running.map((p) => killNow(p.child)));
        await layer?.unmount().catch(() => undefined);
        await chain?.stop();
        if (process.env.DRILL_KEEP !== '1') fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    CUTS * 180_000 + 600_000,
  );
});

function processEnv(o: {
  dbFile: string;
  dataDir: string;
  apiPort: number;
  keeperPort: number;
  rpcUrl: string;
}) {
  return {
    API_DB_URL: `sqlite://${o.dbFile}`,
    KEEPER_DB_URL: '',
    FIELDPROOF_DATA_DIR: o.dataDir,
    FIELDPROOF_LOG_ORIGIN: 'fieldproof.test/drill',
    // The device key is created by the keeper on the layer (link() works there).
    FIELDPROOF_DEVICE_KEY: '',
    FIELDPROOF_DEVICE_KEY_FILE: '',
    FIELDPROOF_SQLITE_SYNCHRONOUS: SYNCHRONOUS,
    API_HOST: '127.0.0.1',
    API_PORT: String(o.apiPort),
    // The drill is about durability, not load shedding or rate limits.
    API_MAX_EVENT_LOOP_DELAY_MS: '0',
    API_RATE_LIMIT_PER_MINUTE: '100000000',
    KEEPER_HTTP_HOST: '127.0.0.1',
    KEEPER_HTTP_PORT: String(o.keeperPort),
    KEEPER_PROVIDER: 'evm',
    KEEPER_CHAINS: JSON.stringify([{ name: 'local', rpcUrl: o.rpcUrl, chainId: 31337, confirmations: 1 }]),
    KEEPER_SIGNER_KEY: SIGNER.privateKey,
    KEEPER_SIGNER_KEY_FILE: '',
    // Anchor often, so that cuts also land between signing, broadcasting and recording a transaction.
    KEEPER_BATCH_MAX_LEAVES: '500',
    KEEPER_BATCH_MAX_WAIT_MS: '1000',
    KEEPER_POLL_MS: '100',
    KEEPER_CONFIRM_POLL_MS: '200',
    KEEPER_BACKOFF_BASE_MS: '100',
    KEEPER_BACKOFF_MAX_MS: '1000',
    KEEPER_RPC_TIMEOUT_MS: '3000',
    // A keeper killed at a cut holds its job's lease until it expires (default 2 min, longer than a
    // round): short leases let the next keeper recover a half-sent anchor within the drill's rounds.
    KEEPER_LEASE_MS: '5000',
    KEEPER_CRON_BACKUP: '',
    KEEPER_CRON_WAL_CHECKPOINT: '',
    LOG_LEVEL: 'warn',
  };
}

/** True once every record is sequenced and the newest checkpoint (if any) has a final anchor. */
async function caughtUp(dbFile: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const db = new Database(dbFile, { readonly: true });
    try {
      // Everything sequenced: as many leaves as evidence rows (SQLite queues by rowid since migration 0007).
      const queued = db
        .prepare('SELECT (SELECT count(*) FROM evidence) - (SELECT count(*) FROM log_leaves) AS n')
        .get() as { n: number };
      const newest = db.prepare('SELECT max(tree_size) AS size FROM log_checkpoints').get() as {
        size: number | null;
      };
      const anchored = db
        .prepare("SELECT count(*) AS n FROM anchor_jobs WHERE tree_size = ? AND state = 'final'")
        .get(newest.size ?? -1) as { n: number };
      // An empty log (everything lost at a weak setting) has nothing to anchor.
      if (queued.n === 0 && (anchored.n > 0 || newest.size === null || newest.size === 0)) return true;
    } finally {
      db.close();
    }
    await sleep(500);
  }
  return false;
}

async function waitHealthy(url: string, proc: Running, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${url} exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.output()}`);
    }
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`${url}: not healthy within ${timeoutMs} ms:\n${proc.output()}`);
    await sleep(100);
  }
}

async function stopGently(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function killNow(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded PRNG (mulberry32), so a drill's cut moments can be replayed with DRILL_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
