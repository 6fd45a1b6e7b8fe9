import { loadConfig } from '@fieldproof/config';
import { createDatabase } from '@fieldproof/db';
import { duration, unitStatus } from '@fieldproof/api/status';
import type { UnitStatus } from '@fieldproof/api/status';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

/** Exit statuses of `fieldproof status` (docs/CONSOLE.md). */
export const STATUS_EXIT = {
  /** Both processes ready, nothing needs attention. */
  ok: 0,
  /** Something needs attention: each thing is one `attention` line. */
  attention: 1,
  /** A usage or configuration mistake. */
  usage: 2,
  /** The status could not be read: the database is unreachable or not migrated. */
  unreadable: 3,
} as const;

export const statusCommand: Command = {
  usage: `fieldproof status [--json] [--timeout MS]
      One screen: the api's and the keeper's readiness (their /readyz), records and the sequencer
      backlog, the last checkpoint, anchors per chain, the signer's balance, collectors' lag, the last
      backup, disk headroom and the clock — read from the database both processes use and from their
      health endpoints (API_HOST/API_PORT, KEEPER_HTTP_HOST/KEEPER_HTTP_PORT).
      --json      the same as one JSON object (GET /v1/status's shape, with the api probe)
      --timeout   how long to wait for each health endpoint (default 3000 ms)

Exit status: 0 nothing needs attention; 1 something does (listed under "attention", one line each:
for cron mail and monitoring scripts); 2 a usage or configuration error; 3 the database could not be read.`,
  example: `fieldproof status
fieldproof status --json | jq .attention
fieldproof status >/dev/null || echo "unit needs attention"`,
  options: {
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run({ positionals, values, env, cwd, stdout, stderr, now }) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const timeout = values.timeout === undefined ? 3000 : Number(values.timeout);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 60_000) {
      throw new UsageError(
        `--timeout must be a whole number of milliseconds from 1 to 60000, not "${String(values.timeout)}"`,
      );
    }
    const { config } = loadConfig(env, cwd);
    const database = createDatabase(config.database.target, { sqlite: config.database.sqlite });
    let status: UnitStatus;
    try {
      status = await unitStatus({
        config,
        database,
        now: now(),
        probeApi: true,
        probeKeeper: true,
        probeTimeoutMs: timeout,
      });
    } catch (err) {
      stderr.write(
        `fieldproof status: cannot read the unit's database (${(err as Error).message}); is it migrated? (fieldproof migrate status)\n`,
      );
      return STATUS_EXIT.unreadable;
    } finally {
      await database.close();
    }
    stdout.write(values.json === true ? `${JSON.stringify(status)}\n` : statusText(status));
    return status.attention.length === 0 ? STATUS_EXIT.ok : STATUS_EXIT.attention;
  },
};

function statusText(s: UnitStatus): string {
  const lines: [string, string][] = [];
  const api = s.api!;
  lines.push([
    'api',
    `${api.url}  ${api.ready ? 'ready' : api.reachable ? `NOT READY (${api.error})` : `UNREACHABLE (${api.error})`}`,
  ]);
  const k = s.keeper!;
  lines.push([
    'keeper',
    `${k.url}  ${k.ready ? 'ready' : k.reachable ? `NOT READY (failing: ${k.failing.join(', ') || k.error})` : `UNREACHABLE (${k.error})`}`,
  ]);
  for (const g of k.signers) {
    lines.push([
      'signer',
      `${g.chain}: ${(g.balanceWei / 1e18).toPrecision(6)} ETH, pays for ${g.anchorsLeft ?? 'an unknown number of'} anchor(s)`,
    ]);
  }
  const r = s.records;
  lines.push([
    'records',
    `${r.total} received, ${r.lastHour} in the last hour, ${r.lastDay} in 24 h; sequencer backlog ${s.outbox.sequenceBacklog}`,
  ]);
  const cp = s.checkpoint;
  lines.push([
    'checkpoint',
    cp === null
      ? 'none signed yet'
      : `tree size ${cp.treeSize}, ${duration(cp.ageMs)} old, ${cp.cosignatures.length} cosignature(s)`,
  ]);
  if (s.outbox.chains.length === 0) lines.push(['anchors', 'no anchor jobs']);
  for (const c of s.outbox.chains) {
    const counts = Object.entries(c.byState)
      .filter(([state, n]) => n > 0 || ['pending', 'included', 'final', 'lost', 'dead'].includes(state))
      .map(([state, n]) => `${state} ${n}`)
      .join(', ');
    lines.push([
      'anchors',
      `${c.chain}: ${counts}${c.oldestPending === null ? '' : `; oldest unfinished ${duration(c.oldestPending.ageMs)} old`}`,
    ]);
  }
  if (s.collectors.length === 0) lines.push(['collectors', 'none configured']);
  for (const c of s.collectors) {
    lines.push([
      'collectors',
      `${c.name}: acked ${c.ackedTreeSize}, ${c.lagLeaves} leaves (${duration(c.lagSeconds * 1000)}) behind${c.stopped ? `, STOPPED: ${c.lastError}` : c.lastError !== null ? `, last error: ${c.lastError}` : ''}`,
    ]);
    if (c.fleet !== null) {
      const f = c.fleet;
      lines.push([
        'collectors',
        `${c.name}: fleet-final through tree size ${f.finalTreeSize}, ${f.lagLeaves} leaves behind${f.stopped ? `, FLEET PROOFS STOPPED: ${f.lastError}` : f.lastError !== null ? `, last fleet error: ${f.lastError}` : ''}`,
      ]);
    }
  }
  lines.push([
    'backup',
    s.backup.newest === null
      ? `none in ${s.backup.dir}`
      : `${s.backup.newest.file}, ${duration(s.backup.newest.ageMs)} old`,
  ]);
  const d = s.disk;
  lines.push([
    'disk',
    `${d.freeBytes === null ? 'free space unknown' : `${(d.freeBytes / 1e9).toFixed(1)} GB free`}, ${(d.bytesPerDay / 1e6).toFixed(1)} MB written in 24 h, ${
      d.headroomDays === null
        ? 'headroom: no writes in 24 h'
        : `${d.headroomDays.toFixed(1)} days of headroom`
    }`,
  ]);
  lines.push([
    'clock',
    `${new Date(s.now).toISOString()}, NTP ${s.clock.ntp}${s.clock.aheadMs > 0 ? `; the ${s.clock.aheadOf} is ${duration(s.clock.aheadMs)} ahead` : ''}`,
  ]);
  if (s.attention.length === 0) lines.push(['attention', 'none']);
  for (const a of s.attention) lines.push(['attention', a]);
  return `${lines.map(([head, text]) => `${head.padEnd(11)}${text}`).join('\n')}\n`;
}
