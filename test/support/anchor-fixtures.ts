import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig, type Env, type FieldproofConfig, type Secrets } from '@fieldproof/config';
import { listAnchorJobs, listAnchorTxsOfChain } from '@fieldproof/db';
import type { AnchorJobRow, AnchorTxRow, Database } from '@fieldproof/db';
import type { KeeperDeps, KeeperTask } from '@fieldproof/keeper';
import { rootFromLeafHashes, toHex } from '@fieldproof/merkle';
import { deviceKeyFromSeed, signCheckpoint } from '@fieldproof/note';
import { pino, type LevelWithSilent, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { insertEvidenceRow } from './evidence-rows.js';

/**
 * Helpers for the anchoring tests: a log with checkpoints written straight into the tables (the
 * sequencer is someone else's and tested on its own), keeper deps from a real config, a controllable
 * clock, captured log lines, and a loop that drives tasks until a condition holds.
 */

export const TEST_ORIGIN = 'example.com/fieldproof/anchor-test';
const DEVICE_SEED = new Uint8Array(32).fill(7);

/** Appends `count` leaves (with their evidence rows) and writes the checkpoint of the new tree. */
export async function appendCheckpoint(
  database: Database,
  count: number,
  options: { now?: number; origin?: string } = {},
): Promise<{ treeSize: number; rootHash: string; origin: string }> {
  const now = options.now ?? Date.now();
  const origin = options.origin ?? TEST_ORIGIN;
  const { db } = database;
  const existing = await db.selectFrom('log_leaves').select('leaf_hash').orderBy('leaf_index').execute();
  const start = existing.length;
  const hashes = existing.map((r) => r.leaf_hash);
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < count; i++) {
      const leafHash = randomBytes(32).toString('hex');
      const { id } = await insertEvidenceRow(trx, { kind: 'test', occurred_at: now, received_at: now });
      await trx
        .insertInto('log_leaves')
        .values({ leaf_index: start + i, evidence_id: id, leaf_hash: leafHash, sequenced_at: now })
        .execute();
      hashes.push(leafHash);
    }
    const treeSize = hashes.length;
    const root = rootFromLeafHashes(hashes.map((h) => Uint8Array.from(Buffer.from(h, 'hex'))));
    const note = signCheckpoint({ origin, treeSize, root }, deviceKeyFromSeed(DEVICE_SEED, origin));
    await trx
      .insertInto('log_checkpoints')
      .values({ tree_size: treeSize, root_hash: toHex(root), origin, signed_note: note, created_at: now })
      .execute();
  });
  const cp = await db
    .selectFrom('log_checkpoints')
    .selectAll()
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  return { treeSize: Number(cp.tree_size), rootHash: cp.root_hash, origin: cp.origin };
}

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public value = Date.now()) {}
  readonly now = (): number => this.value;
  advance(ms: number): void {
    this.value += ms;
  }
}

/** Log lines written by a pino logger, as parsed objects, plus the raw text. */
export class CapturedLogs {
  readonly lines: string[] = [];
  readonly logger: Logger;
  constructor(level: LevelWithSilent = 'debug') {
    const lines = this.lines;
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(l);
        cb();
      },
    });
    this.logger = pino({ level }, stream);
  }
  get text(): string {
    return this.lines.join('\n');
  }
  entries(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export interface ChainSpec {
  name: string;
  rpcUrl: string;
  chainId: number;
  confirmations?: number;
  finality?: 'auto' | 'tag' | 'confirmations';
  anchorAddress?: string;
  maxFeePerGasGwei?: number;
  stuckAfterMs?: number;
}

/** Keeper deps from a real config: `env` as the keeper would read it, plus the given chains. */
export function anchorDeps(options: {
  database: Database;
  chains: readonly ChainSpec[];
  signerKey?: string;
  env?: Env;
  clock?: TestClock;
  logs?: CapturedLogs;
}): KeeperDeps & { config: FieldproofConfig; secrets: Secrets } {
  const env: Env = {
    API_DB_URL: `sqlite://${options.database.target.engine === 'sqlite' ? options.database.target.path : '/dev/null'}`,
    KEEPER_PROVIDER: options.chains.length === 0 ? 'stub' : options.chains.length === 1 ? 'evm' : 'multi',
    KEEPER_CHAINS: JSON.stringify(options.chains),
    KEEPER_SIGNER_KEY: options.signerKey,
    KEEPER_BATCH_MAX_LEAVES: '1',
    KEEPER_BATCH_MAX_WAIT_MS: '0',
    KEEPER_POLL_MS: '20',
    KEEPER_CONFIRM_POLL_MS: '1000',
    KEEPER_BACKOFF_BASE_MS: '100',
    KEEPER_BACKOFF_MAX_MS: '2000',
    KEEPER_LEASE_MS: '60000',
    KEEPER_RPC_TIMEOUT_MS: '2000',
    ...options.env,
  };
  const { config, secrets } = loadConfig(env, process.cwd());
  const clock = options.clock ?? new TestClock();
  return {
    database: options.database,
    config,
    secrets,
    logger: (options.logs ?? new CapturedLogs('silent')).logger,
    registry: new Registry(),
    now: clock.now,
  };
}

/**
 * Runs every task's runOnce in turn (advancing `clock` by `stepMs` after each round, when given) until
 * `done()` holds; fails after `maxRounds`. Returns the number of rounds.
 */
export async function driveUntil(
  tasks: readonly KeeperTask[],
  done: () => Promise<boolean>,
  options: { clock?: TestClock; stepMs?: number; maxRounds?: number; label?: string } = {},
): Promise<number> {
  const max = options.maxRounds ?? 200;
  for (let round = 1; round <= max; round++) {
    for (const t of tasks) await t.runOnce();
    if (await done()) return round;
    if (options.clock !== undefined) options.clock.advance(options.stepMs ?? 1000);
  }
  throw new Error(`driveUntil${options.label ? ` (${options.label})` : ''}: not done after ${max} rounds`);
}

/**
 * Takes the next anchor of `chain` to final on a node that wants two confirmations: drives the tasks until
 * a job is included, mines the second confirmation (`mine`), and drives on until `count` jobs are final.
 */
export async function driveToFinal(
  tasks: readonly KeeperTask[],
  database: Database,
  options: { chain: string; count: number; clock: TestClock; mine: () => Promise<void> },
): Promise<void> {
  const { chain, count, clock } = options;
  await driveUntil(tasks, async () => (await jobsOf(database, chain)).some((j) => j.state === 'included'), {
    clock,
    label: 'included',
  });
  await options.mine();
  await driveUntil(
    tasks,
    async () => (await jobsOf(database, chain)).filter((j) => j.state === 'final').length === count,
    { clock, label: 'final' },
  );
}

export async function jobsOf(database: Database, chain?: string): Promise<AnchorJobRow[]> {
  return listAnchorJobs(database.db, chain === undefined ? {} : { chain });
}

export async function txsOf(database: Database, chain: string): Promise<AnchorTxRow[]> {
  return listAnchorTxsOfChain(database.db, chain);
}

/** True when every job (optionally of one chain) is in `state`, and there is at least one. */
export async function allJobsIn(
  database: Database,
  state: AnchorJobRow['state'],
  chain?: string,
): Promise<boolean> {
  const jobs = await jobsOf(database, chain);
  return jobs.length > 0 && jobs.every((j) => j.state === state);
}

export interface TaskLoops {
  /** runOnce calls per task name: all, and those that reported work. */
  readonly counts: Map<string, { rounds: number; busy: number }>;
  stop(): Promise<void>;
}

/**
 * Runs each task in its own loop on the real clock, as the keeper's runner does: runOnce again at once
 * after work, sleep `idleMs` (or `defaultIdleMs`) when there was none.
 */
export function startTaskLoops(tasks: readonly KeeperTask[], defaultIdleMs: number): TaskLoops {
  let stopped = false;
  const counts = new Map<string, { rounds: number; busy: number }>();
  const loops = tasks.map(async (task) => {
    const count = { rounds: 0, busy: 0 };
    counts.set(task.name, count);
    while (!stopped) {
      const busy = await task.runOnce();
      count.rounds += 1;
      if (busy) count.busy += 1;
      else await new Promise((r) => setTimeout(r, task.idleMs ?? defaultIdleMs));
    }
  });
  return {
    counts,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/**
 * The keeper's task loops (KeeperTask: a busy round runs again at once, an idle one sleeps `idleMs`),
 * played on `clock` instead of the wall clock for `forMs`: each step runs the task that is due next and
 * moves the clock to its next turn. `between(at)` runs before each step (writes checkpoints meanwhile).
 * A task busy for more than `maxBusyInARow` rounds in a row without the clock moving is spinning.
 */
export async function playTaskLoops(
  tasks: readonly KeeperTask[],
  clock: TestClock,
  options: { forMs: number; defaultIdleMs: number; between?: (elapsedMs: number) => Promise<void> },
): Promise<Map<string, { rounds: number; busy: number }>> {
  const maxBusyInARow = 50;
  const start = clock.now();
  const end = start + options.forMs;
  const counts = new Map(tasks.map((t) => [t.name, { rounds: 0, busy: 0 }]));
  const nextAt = tasks.map(() => start);
  const busyInARow = tasks.map(() => 0);
  for (;;) {
    const i = nextAt.indexOf(Math.min(...nextAt));
    if (nextAt[i]! >= end) break;
    clock.value = nextAt[i]!;
    await options.between?.(clock.now() - start);
    const task = tasks[i]!;
    const busy = await task.runOnce();
    const count = counts.get(task.name)!;
    count.rounds += 1;
    if (busy) {
      count.busy += 1;
      busyInARow[i]! += 1;
      if (busyInARow[i]! > maxBusyInARow)
        throw new Error(`${task.name} spins: busy ${maxBusyInARow} times in a row`);
    } else {
      busyInARow[i] = 0;
      nextAt[i] = clock.now() + (task.idleMs ?? options.defaultIdleMs);
    }
  }
  clock.value = end;
  return counts;
}

/** Polls `done()` every 25 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  done: () => Promise<boolean>,
  timeoutMs = 15_000,
  label = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`waitFor: ${label} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
