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

/**
 * What `fieldproof --help` lists of a sub-command, and how to load the rest: the command table holds one
 * per command, so listing them loads no command's code.
 */
export interface CommandEntry {
  readonly name: string;
  /** One line, shown by `fieldproof --help` and first by `fieldproof <name> --help`. */
  readonly summary: string;
  /** Imports the command's module (its dependencies load only now). */
  load(): Promise<Command>;
}

/** One `fieldproof` sub-command, as its module exports it. `run` resolves to the process exit code. */
export interface Command {
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
