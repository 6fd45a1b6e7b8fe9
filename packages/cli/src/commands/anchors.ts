import { loadConfig } from '@fieldproof/config';
import {
  ANCHOR_JOB_STATES,
  createDatabase,
  listAnchorJobs,
  migrate,
  requeueDeadAnchorJob,
} from '@fieldproof/db';
import type { AnchorJobRow, AnchorJobState } from '@fieldproof/db';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

export const anchorsCommand: Command = {
  usage: `fieldproof anchors list [--state STATE] [--chain NAME] [--json]
      Lists anchor jobs, oldest checkpoint first: id, chain, tree size, state, attempts, last error.
      --state dead shows the dead-lettered jobs. --json prints one JSON array.
fieldproof anchors retry <id>
      Puts a dead-lettered job back in the outbox (state pending, attempts reset, due now); the keeper
      signs a new transaction for it on its next poll. Fix the cause first (fund the signer, correct the
      chain). Its last error is kept until the next attempt. Refuses a job that is not dead (exit 2).

Works on the database the keeper uses (KEEPER_DB_URL / API_DB_URL, as for every command), with the
api and keeper running or not.`,
  example: `fieldproof anchors list --state dead
fieldproof anchors retry 01a24d68-cb0a-702d-a6b1-80cca00f7eb1`,
  options: {
    state: { type: 'string' },
    chain: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ positionals, values, env, cwd, stdout, stderr }) {
    const [sub, ...rest] = positionals;
    if (sub !== 'list' && sub !== 'retry') {
      throw new UsageError(
        sub === undefined ? 'missing sub-command (list or retry)' : `unknown anchors sub-command "${sub}"`,
      );
    }
    if (sub === 'retry' && rest.length !== 1) throw new UsageError('retry takes exactly one job id');
    if (sub === 'list' && rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const state = values.state;
    if (state !== undefined && !isJobState(state)) {
      throw new UsageError(`unknown state "${String(state)}" (one of ${ANCHOR_JOB_STATES.join(', ')})`);
    }

    const { config } = loadConfig(env, cwd);
    const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
    try {
      await migrate(database);
      if (sub === 'list') {
        const chain = typeof values.chain === 'string' ? values.chain : undefined;
        const jobs = await listAnchorJobs(database.db, { chain, state });
        if (values.json === true) stdout.write(`${JSON.stringify(jobs.map(jobJson))}\n`);
        else stdout.write(jobTable(jobs));
        return 0;
      }
      const id = rest[0]!;
      const result = await requeueDeadAnchorJob(database.db, id, Date.now());
      if (result.outcome === 'unknown') {
        stderr.write(`fieldproof anchors: no anchor job ${id} (see fieldproof anchors list)\n`);
        return 2;
      }
      const { job } = result;
      if (result.outcome === 'not-dead') {
        stderr.write(
          `fieldproof anchors: job ${id} is ${job.state}, not dead: only a dead-lettered job can be retried\n`,
        );
        return 2;
      }
      stdout.write(
        `re-queued anchor job ${job.id} (chain ${job.chain}, tree size ${job.tree_size}): pending, attempts reset; ` +
          `the keeper takes it on its next poll\n`,
      );
      return 0;
    } finally {
      await database.close();
    }
  },
};

function isJobState(value: unknown): value is AnchorJobState {
  return typeof value === 'string' && (ANCHOR_JOB_STATES as readonly string[]).includes(value);
}

/** The job as `/v1/outbox` names its fields. */
function jobJson(job: AnchorJobRow) {
  return {
    id: job.id,
    chain: job.chain,
    chainId: job.chain_id,
    treeSize: job.tree_size,
    state: job.state,
    attempts: job.attempts,
    nextAttemptAt: job.next_attempt_at,
    lastError: job.last_error,
    createdAt: job.created_at,
    updatedAt: job.updated_at,
  };
}

function jobTable(jobs: readonly AnchorJobRow[]): string {
  if (jobs.length === 0) return 'no anchor jobs\n';
  const rows = jobs.map((j) => [
    j.id,
    j.chain,
    String(j.tree_size),
    j.state,
    String(j.attempts),
    new Date(j.updated_at).toISOString(),
    j.last_error ?? '',
  ]);
  const head = ['id', 'chain', 'tree size', 'state', 'attempts', 'updated', 'last error'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[head, ...rows].map(line).join('\n')}\n`;
}
