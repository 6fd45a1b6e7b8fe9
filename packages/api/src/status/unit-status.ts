import fs from 'node:fs/promises';
import path from 'node:path';
import type { FieldproofConfig } from '@fieldproof/config';
import {
  ANCHOR_JOB_STATES,
  countAnchorJobsByState,
  countLeaves,
  countQueuedEvidence,
  evidenceIntakeSince,
  getLatestCheckpoint,
  getLeafByIndex,
  listCollectorCosignatures,
  listCollectorPushStates,
  listDeadAnchorJobs,
  listFinalFleetTreeSizes,
  listFleetProofCursors,
  newestEvidenceId,
  newestFinalAnchorTimes,
  oldestActiveAnchorJobs,
} from '@fieldproof/db';
import type { AnchorJobState, Database, DeadAnchorJob, FleetProofCursor } from '@fieldproof/db';
import { latestCheckpoint } from '@fieldproof/proofs';

/**
 * What the unit is doing, read once: the data behind GET /v1/outbox and GET /v1/collectors (the routes
 * answer with these functions), the operator console's panels and `fieldproof status`. No fastify here:
 * `fieldproof status` loads this module alone (`@fieldproof/api/status`).
 */

type Db = Database['db'];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------------
// GET /v1/outbox

export interface OutboxView {
  readonly now: number;
  readonly sequenceBacklog: number;
  readonly chains: readonly {
    readonly chain: string;
    readonly byState: Readonly<Record<AnchorJobState, number>>;
    readonly oldestPending: { treeSize: number; createdAt: number; ageMs: number } | null;
  }[];
  readonly dead: { readonly total: number; readonly jobs: readonly DeadAnchorJob[] };
}

/** Anchoring per chain and state, each chain's oldest unfinished job, the dead-lettered jobs. */
export async function outboxView(db: Db, at: number, deadLimit: number): Promise<OutboxView> {
  const [counts, oldest, dead, sequenceBacklog] = await Promise.all([
    countAnchorJobsByState(db),
    oldestActiveAnchorJobs(db),
    listDeadAnchorJobs(db, deadLimit),
    countQueuedEvidence(db),
  ]);
  const chains = [...new Set([...counts.map((c) => c.chain), ...oldest.map((o) => o.chain)])].sort();
  return {
    now: at,
    sequenceBacklog,
    chains: chains.map((chain) => {
      const waiting = oldest.find((o) => o.chain === chain);
      return {
        chain,
        byState: Object.fromEntries(
          ANCHOR_JOB_STATES.map((s) => [
            s,
            counts.find((c) => c.chain === chain && c.state === s)?.count ?? 0,
          ]),
        ) as Record<AnchorJobState, number>,
        oldestPending:
          waiting === undefined
            ? null
            : {
                treeSize: waiting.treeSize,
                createdAt: waiting.createdAt,
                ageMs: Math.max(0, at - waiting.createdAt),
              },
      };
    }),
    dead: {
      total: counts.filter((c) => c.state === 'dead').reduce((sum, c) => sum + c.count, 0),
      jobs: dead,
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// GET /v1/collectors

export interface CollectorView {
  readonly name: string;
  readonly url: string | null;
  readonly ackedTreeSize: number;
  readonly ackedAt: number | null;
  readonly lagLeaves: number;
  readonly lagSeconds: number;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  readonly stopped: boolean;
  /** Fleet proofs fetched back (issue 16); null for a collector without a `fleetKey` and nothing stored. */
  readonly fleet: FleetView | null;
}

/** How far this unit's checkpoints are final through one collector's fleet anchors. */
export interface FleetView {
  /** Largest checkpoint of this unit with a final fleet proof from it (0: none). */
  readonly finalTreeSize: number;
  /** Leaves signed here that no final fleet proof from it covers yet: the fleet-proof lag. */
  readonly lagLeaves: number;
  readonly fetchedAt: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  /** A refused fleet proof (it did not verify) stopped fetching from it. */
  readonly stopped: boolean;
}

/**
 * The unit's side of each fleet collector: acknowledged size, lag in leaves and seconds, last error;
 * for a collector with a `fleetKey`, the fleet-proof lag (its last fleet-final tree size).
 */
export async function collectorsView(
  db: Db,
  configured: FieldproofConfig['keeper']['collectors'],
  at: number,
): Promise<{ now: number; treeSize: number; collectors: CollectorView[] }> {
  const latest = await getLatestCheckpoint(db);
  const treeSize = latest === undefined ? 0 : Number(latest.tree_size);
  const states = new Map((await listCollectorPushStates(db)).map((s) => [s.collector, s]));
  const cursors = new Map((await listFleetProofCursors(db)).map((c) => [c.collector, c]));
  const finals = new Map((await listFinalFleetTreeSizes(db)).map((f) => [f.collector, f.treeSize]));
  const names = [...new Set([...configured.map((c) => c.name), ...states.keys(), ...cursors.keys()])];
  const collectors: CollectorView[] = [];
  for (const name of names) {
    const state = states.get(name);
    const acked = state?.ackedTreeSize ?? 0;
    let lagSeconds = 0;
    if (acked < treeSize) {
      const leaf = await getLeafByIndex(db, acked);
      lagSeconds = leaf === undefined ? 0 : Math.max(0, at - Number(leaf.sequenced_at)) / 1000;
    }
    collectors.push({
      name,
      url: configured.find((c) => c.name === name)?.url ?? null,
      ackedTreeSize: acked,
      ackedAt: state?.ackedAt ?? null,
      lagLeaves: Math.max(0, treeSize - acked),
      lagSeconds,
      lastError: state?.lastError ?? null,
      lastErrorAt: state?.lastErrorAt ?? null,
      stopped: state?.stopped ?? false,
      fleet: fleetViewOf(
        configured.find((c) => c.name === name)?.fleetKey !== undefined,
        cursors.get(name),
        finals.get(name),
        treeSize,
      ),
    });
  }
  return { now: at, treeSize, collectors };
}

function fleetViewOf(
  hasFleetKey: boolean,
  cursor: FleetProofCursor | undefined,
  finalTreeSize: number | undefined,
  treeSize: number,
): FleetView | null {
  if (!hasFleetKey && cursor === undefined && finalTreeSize === undefined) return null;
  const final = finalTreeSize ?? 0;
  return {
    finalTreeSize: final,
    lagLeaves: Math.max(0, treeSize - final),
    fetchedAt: cursor?.fetchedAt ?? null,
    lastError: cursor?.lastError ?? null,
    lastErrorAt: cursor?.lastErrorAt ?? null,
    stopped: cursor?.stopped ?? false,
  };
}

// ---------------------------------------------------------------------------------------------------
// Records, checkpoint, disk, backup, clock

export interface RecordsView {
  /** Records received: sequenced leaves plus the sequencer backlog. */
  readonly total: number;
  readonly lastHour: number;
  readonly lastDay: number;
  /** Records received per hour over the last 24 hours, oldest first (24 entries; the last is the last hour). */
  readonly hourly: readonly number[];
  /** Content bytes stored with the records of the last 24 hours (raw uploads). */
  readonly contentBytesLastDay: number;
  readonly newestId: string | null;
}

export async function recordsView(db: Db, at: number): Promise<RecordsView> {
  const since = at - DAY;
  const [leaves, backlog, buckets, newestId] = await Promise.all([
    countLeaves(db),
    countQueuedEvidence(db),
    evidenceIntakeSince(db, since, HOUR),
    newestEvidenceId(db),
  ]);
  const hourly = Array.from({ length: 24 }, () => 0);
  let contentBytesLastDay = 0;
  for (const b of buckets) {
    if (b.bucket >= 0 && b.bucket < 24) hourly[b.bucket]! += b.records;
    contentBytesLastDay += b.contentBytes;
  }
  return {
    total: leaves + backlog,
    lastHour: hourly[23]!,
    lastDay: hourly.reduce((s, n) => s + n, 0),
    hourly,
    contentBytesLastDay,
    newestId: newestId ?? null,
  };
}

export interface CheckpointPanel {
  readonly treeSize: number;
  readonly root: string;
  readonly createdAt: number;
  readonly ageMs: number;
  /** The signature lines of the signed note (`— <key name> <base64>`). */
  readonly signatures: readonly string[];
  readonly cosignatures: readonly { collector: string; cosignedAt: number }[];
}

/** The newest signed checkpoint, its signature and the collectors' cosignatures of it. */
export async function checkpointPanel(db: Db, at: number): Promise<CheckpointPanel | null> {
  const checkpoint = await latestCheckpoint(db);
  if (checkpoint === undefined) return null;
  const cosignatures = (await listCollectorCosignatures(db))
    .filter((c) => c.treeSize === checkpoint.treeSize)
    .map((c) => ({ collector: c.collector, cosignedAt: c.cosignedAt }));
  return {
    treeSize: checkpoint.treeSize,
    root: checkpoint.root,
    createdAt: checkpoint.createdAt,
    ageMs: Math.max(0, at - checkpoint.createdAt),
    signatures: checkpoint.note.split('\n').filter((l) => l.startsWith('— ')),
    cosignatures,
  };
}

export interface DiskView {
  /** Each folder the unit writes to, with its free bytes (null: cannot be read). */
  readonly folders: readonly { path: string; freeBytes: number | null }[];
  /** The least free space of them. */
  readonly freeBytes: number | null;
  /** Bytes the last 24 hours of records took (database share per record × records, plus content). */
  readonly bytesPerDay: number;
  /** Days until the fullest folder is full at that rate (null: nothing written in a day, or unknown). */
  readonly headroomDays: number | null;
  /** The SQLite database's size (with its WAL); null on PostgreSQL, whose disk this host cannot see. */
  readonly databaseBytes: number | null;
}

/**
 * Disk headroom in days at the current rate. The rate is the last 24 hours' records times the average
 * database bytes per record (SQLite file and WAL ÷ records), plus the content bytes those records
 * stored. On PostgreSQL only the data folder (content) is counted.
 */
export async function diskView(
  database: Database,
  dataDir: string,
  records: Pick<RecordsView, 'total' | 'lastDay' | 'contentBytesLastDay'>,
): Promise<DiskView> {
  const target = database.target;
  const sqliteFile = target.engine === 'sqlite' ? target.path : undefined;
  const paths = [...(sqliteFile === undefined ? [] : [path.dirname(sqliteFile)]), dataDir];
  const folders = await Promise.all(
    [...new Set(paths)].map(async (p) => ({ path: p, freeBytes: await freeBytes(p) })),
  );
  const known = folders.map((f) => f.freeBytes).filter((b): b is number => b !== null);
  const free = known.length === 0 ? null : Math.min(...known);
  const databaseBytes =
    sqliteFile === undefined ? null : (await fileSize(sqliteFile)) + (await fileSize(`${sqliteFile}-wal`));
  const perRecord = databaseBytes === null || records.total === 0 ? 0 : databaseBytes / records.total;
  const bytesPerDay = Math.round(records.lastDay * perRecord + records.contentBytesLastDay);
  return {
    folders,
    freeBytes: free,
    bytesPerDay,
    headroomDays: free === null || bytesPerDay === 0 ? null : free / bytesPerDay,
    databaseBytes,
  };
}

/** Backups in `<data dir>/backups/` named as every backup path names them (`fieldproof-<UTC>.tar`). */
const BACKUP_NAME = /^fieldproof-(\d{8})T(\d{6})\.(\d{3})Z\.(tar|sqlite3)$/;

export interface BackupView {
  readonly dir: string;
  readonly newest: { file: string; at: number; ageMs: number } | null;
  readonly count: number;
}

/** The newest backup archive's age, from its name (the time `fieldproof backup` wrote into it). */
export async function backupView(dataDir: string, at: number): Promise<BackupView> {
  const dir = path.join(dataDir, 'backups');
  let names: string[] = [];
  try {
    names = (await fs.readdir(dir)).filter((n) => BACKUP_NAME.test(n)).sort();
  } catch {
    names = [];
  }
  const file = names.at(-1);
  if (file === undefined) return { dir, newest: null, count: 0 };
  const [, d, t, ms] = BACKUP_NAME.exec(file)!;
  const time = Date.UTC(
    Number(d!.slice(0, 4)),
    Number(d!.slice(4, 6)) - 1,
    Number(d!.slice(6, 8)),
    Number(t!.slice(0, 2)),
    Number(t!.slice(2, 4)),
    Number(t!.slice(4, 6)),
    Number(ms),
  );
  return { dir, newest: { file, at: time, ageMs: Math.max(0, at - time) }, count: names.length };
}

/** How far ahead of this clock a chain's block time or a checkpoint may be before the clock is suspect. */
export const CLOCK_SKEW_TOLERANCE_MS = 5 * 60_000;

export interface ClockView {
  readonly now: number;
  /** systemd-timesyncd's verdict: `/run/systemd/timesync/synchronized` exists once it synchronised. */
  readonly ntp: 'synchronized' | 'not synchronized' | 'unknown';
  /** How far the newest final anchor's block time or the newest checkpoint is ahead of this clock (ms). */
  readonly aheadMs: number;
  readonly aheadOf: string | null;
  readonly ok: boolean;
}

/**
 * The clock is suspect when something it stamped or a chain stamped lies in its future: a block time of
 * a final anchor, or the newest checkpoint's time, more than {@link CLOCK_SKEW_TOLERANCE_MS} ahead.
 */
export async function clockView(
  db: Db,
  at: number,
  checkpointCreatedAt: number | null,
  timesyncDir = '/run/systemd/timesync',
): Promise<ClockView> {
  const blocks = await newestFinalAnchorTimes(db);
  let aheadMs = 0;
  let aheadOf: string | null = null;
  for (const b of blocks) {
    if (b.blockTimestamp - at > aheadMs) {
      aheadMs = b.blockTimestamp - at;
      aheadOf = `newest final block on ${b.chain}`;
    }
  }
  if (checkpointCreatedAt !== null && checkpointCreatedAt - at > aheadMs) {
    aheadMs = checkpointCreatedAt - at;
    aheadOf = 'newest checkpoint';
  }
  let ntp: ClockView['ntp'] = 'unknown';
  if (await exists(timesyncDir)) {
    ntp = (await exists(path.join(timesyncDir, 'synchronized'))) ? 'synchronized' : 'not synchronized';
  }
  return {
    now: at,
    ntp,
    aheadMs,
    aheadOf,
    ok: aheadMs <= CLOCK_SKEW_TOLERANCE_MS && ntp !== 'not synchronized',
  };
}

// ---------------------------------------------------------------------------------------------------
// The keeper, seen from outside: its /readyz and its signer metrics

export interface SignerView {
  readonly chain: string;
  readonly balanceWei: number;
  readonly anchorCostWei: number | null;
  /** How many more anchors the balance pays for at the last estimated cost. */
  readonly anchorsLeft: number | null;
}

export interface KeeperView {
  readonly url: string;
  readonly reachable: boolean;
  readonly ready: boolean;
  readonly failing: readonly string[];
  readonly error: string | null;
  readonly signers: readonly SignerView[];
}

/** Probe `url` (`/readyz`): reachable, ready, and the failing checks' names when the body lists them. */
export async function probe(
  url: string,
  timeoutMs: number,
): Promise<{ reachable: boolean; ready: boolean; body: unknown; error: string | null }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // not JSON: keep the text
    }
    return { reachable: true, ready: res.ok, body, error: res.ok ? null : `HTTP ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { reachable: false, ready: false, body: null, error: cause ?? (err as Error).message };
  }
}

/**
 * The keeper's health server (KEEPER_HTTP_HOST:KEEPER_HTTP_PORT): `/readyz`, and from `/metrics` the anchoring
 * signer's balance and one anchor's estimated cost per chain (the keeper checks them every confirmation poll).
 */
export async function keeperView(config: FieldproofConfig, timeoutMs: number): Promise<KeeperView> {
  const host = config.keeper.host === '0.0.0.0' ? '127.0.0.1' : config.keeper.host;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${config.keeper.port}`;
  const ready = await probe(`${base}/readyz`, timeoutMs);
  const checks = (ready.body as { checks?: Record<string, { ok?: boolean }> } | null)?.checks ?? {};
  const failing = Object.entries(checks)
    .filter(([, c]) => c.ok !== true)
    .map(([name]) => name);
  let signers: SignerView[] = [];
  if (ready.reachable) {
    try {
      const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.ok) signers = signersFromMetrics(await res.text());
    } catch {
      // the metrics are an extra: readiness already said whether the keeper answers
    }
  }
  return { url: base, reachable: ready.reachable, ready: ready.ready, failing, error: ready.error, signers };
}

const BALANCE = 'fieldproof_anchor_signer_balance_wei';
const COST = 'fieldproof_anchor_estimated_cost_wei';

/** Per chain, the signer balance and anchor cost gauges of a Prometheus text exposition. */
export function signersFromMetrics(text: string): SignerView[] {
  const values = (name: string) => {
    const out = new Map<string, number>();
    const re = new RegExp(`^${name}\\{chain="((?:[^"\\\\]|\\\\.)*)"\\} (\\S+)$`, 'gm');
    for (const m of text.matchAll(re)) out.set(m[1]!, Number(m[2]));
    return out;
  };
  const balances = values(BALANCE);
  const costs = values(COST);
  return [...balances]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([chain, balanceWei]) => {
      const cost = costs.get(chain);
      return {
        chain,
        balanceWei,
        anchorCostWei: cost ?? null,
        anchorsLeft: cost === undefined || cost <= 0 ? null : Math.floor(balanceWei / cost),
      };
    });
}

// ---------------------------------------------------------------------------------------------------
// Everything, with what needs attention

/** Below this many anchors left, the signer needs funds. */
export const SIGNER_LOW_ANCHORS = 10;
/** A backup older than this (or none) needs attention. */
export const BACKUP_MAX_AGE_MS = 2 * DAY;
/** Less disk headroom than this many days at the current rate needs attention. */
export const DISK_MIN_DAYS = 7;
/** A collector behind by longer than this, or an unfinished anchor job older than this, needs attention. */
export const LAG_MAX_MS = HOUR;

export interface UnitStatus {
  readonly now: number;
  readonly api: { url: string; reachable: boolean; ready: boolean; error: string | null } | null;
  readonly keeper: KeeperView | null;
  readonly records: RecordsView;
  readonly outbox: OutboxView;
  readonly checkpoint: CheckpointPanel | null;
  readonly collectors: readonly CollectorView[];
  readonly disk: DiskView;
  readonly backup: BackupView;
  readonly clock: ClockView;
  /** One line per thing that needs the operator; empty when all is well. */
  readonly attention: readonly string[];
}

export interface UnitStatusOptions {
  readonly config: FieldproofConfig;
  readonly database: Database;
  readonly now: number;
  /** Probe the api's /readyz (`fieldproof status`; the api itself does not probe itself). */
  readonly probeApi?: boolean;
  /** Probe the keeper's health server (default true). */
  readonly probeKeeper?: boolean;
  readonly probeTimeoutMs?: number;
  readonly deadLimit?: number;
  readonly timesyncDir?: string;
}

export async function unitStatus(options: UnitStatusOptions): Promise<UnitStatus> {
  const { config, database, now } = options;
  const db = database.db;
  const timeout = options.probeTimeoutMs ?? 3000;
  const apiHost = config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host;
  const apiUrl = `http://${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${config.api.port}`;
  const [api, keeper, records, outbox, checkpoint, collectors, backup] = await Promise.all([
    options.probeApi === true ? probe(`${apiUrl}/readyz`, timeout) : Promise.resolve(undefined),
    options.probeKeeper === false ? Promise.resolve(null) : keeperView(config, timeout),
    recordsView(db, now),
    outboxView(db, now, options.deadLimit ?? 20),
    checkpointPanel(db, now),
    collectorsView(db, config.keeper.collectors, now),
    backupView(config.dataDir, now),
  ]);
  const [disk, clock] = await Promise.all([
    diskView(database, config.dataDir, records),
    clockView(db, now, checkpoint?.createdAt ?? null, options.timesyncDir),
  ]);
  const status = {
    now,
    api:
      api === undefined
        ? null
        : { url: apiUrl, reachable: api.reachable, ready: api.ready, error: api.error },
    keeper,
    records,
    outbox,
    checkpoint,
    collectors: collectors.collectors,
    disk,
    backup,
    clock,
  };
  return { ...status, attention: attentionOf(status) };
}

function attentionOf(s: Omit<UnitStatus, 'attention'>): string[] {
  const out: string[] = [];
  if (s.api !== null && !s.api.ready) {
    out.push(
      `api ${s.api.url}: ${s.api.reachable ? `not ready (${s.api.error})` : `unreachable (${s.api.error})`}`,
    );
  }
  if (s.keeper !== null && !s.keeper.ready) {
    out.push(
      `keeper ${s.keeper.url}: ${
        s.keeper.reachable
          ? `not ready (failing: ${s.keeper.failing.join(', ') || s.keeper.error})`
          : `unreachable (${s.keeper.error})`
      }`,
    );
  }
  for (const signer of s.keeper?.signers ?? []) {
    if (signer.anchorsLeft !== null && signer.anchorsLeft < SIGNER_LOW_ANCHORS) {
      out.push(`signer on ${signer.chain}: pays for ${signer.anchorsLeft} more anchor(s); fund it`);
    }
  }
  if (s.outbox.dead.total > 0) {
    out.push(
      `${s.outbox.dead.total} dead-lettered anchor job(s): fix the cause, then fieldproof anchors retry ID`,
    );
  }
  for (const chain of s.outbox.chains) {
    if (chain.oldestPending !== null && chain.oldestPending.ageMs > LAG_MAX_MS) {
      out.push(
        `anchors on ${chain.chain}: oldest unfinished job is ${duration(chain.oldestPending.ageMs)} old`,
      );
    }
  }
  for (const c of s.collectors) {
    if (c.stopped) out.push(`collector ${c.name}: pushing stopped (${c.lastError ?? 'refused'})`);
    else if (c.lagSeconds * 1000 > LAG_MAX_MS)
      out.push(`collector ${c.name}: ${duration(c.lagSeconds * 1000)} behind`);
    if (c.fleet?.stopped === true) {
      out.push(`collector ${c.name}: fetching fleet proofs stopped (${c.fleet.lastError ?? 'refused'})`);
    }
  }
  if (s.backup.newest === null) out.push(`no backup in ${s.backup.dir}`);
  else if (s.backup.newest.ageMs > BACKUP_MAX_AGE_MS)
    out.push(`last backup is ${duration(s.backup.newest.ageMs)} old`);
  if (s.disk.headroomDays !== null && s.disk.headroomDays < DISK_MIN_DAYS) {
    out.push(`disk: ${s.disk.headroomDays.toFixed(1)} days of headroom at the current rate`);
  }
  if (!s.clock.ok) {
    out.push(
      s.clock.ntp === 'not synchronized'
        ? 'clock: not synchronised (systemd-timesyncd)'
        : `clock: ${duration(s.clock.aheadMs)} behind the ${s.clock.aheadOf}`,
    );
  }
  return out;
}

/** `3 h 12 min`, `45 s`: an age for a person. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

async function freeBytes(folder: string): Promise<number | null> {
  try {
    const s = await fs.statfs(folder);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
