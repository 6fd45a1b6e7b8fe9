import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI: cross-process tests run what an operator runs. */
export const FIELDPROOF_BIN = fileURLToPath(new URL('../../packages/cli/bin/fieldproof.js', import.meta.url));

/** A `fieldproof api` child process. */
export interface ApiProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>`, parsed from the `api listening` log line. */
  readonly address: string;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node packages/cli/bin/fieldproof.js api` with `env` (use API_PORT=0) and waits for its
 * `{"msg":"api listening","address":…}` line. Load shedding on event-loop delay is off unless `env` sets
 * it, as in the in-process test apps (testApiEnv in ./api.ts).
 */
export function spawnApi(env: Record<string, string>, timeoutMs = 30_000): Promise<ApiProcess> {
  const child = spawn(process.execPath, [FIELDPROOF_BIN, 'api'], {
    env: { ...process.env, API_PORT: '0', API_MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`api did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = /"address":"(http:\/\/[^"]+)","msg":"api listening"/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, address: match[1]!, output: () => out, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`api exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}
