import type { ParseArgsConfig } from 'node:util';
import type { Env } from '@fieldproof/config';

/** What a command gets: its parsed arguments and where to write. */
export interface CommandContext {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly env: Env;
  readonly cwd: string;
  /** Read by commands that take `-` for a file (`verify -`). */
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** The clock for progress reports (`Date.now`; tests inject one). */
  readonly now: () => number;
}

/** One `fieldproof` sub-command. `run` resolves to the process exit code. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line(s) and option descriptions, shown by --help. */
  readonly usage: string;
  /** At least one runnable example, shown by --help. */
  readonly example: string;
  readonly options?: ParseArgsConfig['options'];
  /** Long-running commands (api, keeper, start) manage their own lifetime. */
  run(ctx: CommandContext): Promise<number>;
}

/** A usage mistake: printed as one line with a pointer to --help, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
