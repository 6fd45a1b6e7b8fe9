import { parseArgs } from 'node:util';
import type { Env } from '@fieldproof/config';
import type { Command, CommandEntry } from './command.js';
import { UsageError } from './command.js';
import { commands } from './commands/index.js';
import { versionLine } from './version.js';

export interface MainIo {
  readonly stdin?: NodeJS.ReadableStream;
  readonly now?: () => number;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly cwd: string;
}

/** Runs `fieldproof <command> …`; resolves to the exit code. Errors an operator can fix are one line. */
export async function main(
  argv: readonly string[],
  env: Env,
  io: MainIo = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`${versionLine()}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) {
    io.stderr.write(`fieldproof: unknown command "${name}" (see fieldproof --help)\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(help(entry, command));
    return 0;
  }
  try {
    const parsed = parseArgs({
      args: [...rest],
      options: command.options ?? {},
      allowPositionals: true,
      strict: true,
    });
    return await command.run({
      positionals: parsed.positionals,
      values: parsed.values,
      env,
      stdin: process.stdin,
      now: Date.now,
      ...io,
    });
  } catch (err) {
    // Loaded only now: the command has loaded config and db already, and --help must not load them.
    const { operatorLine } = await import('./operator-line.js');
    const line = operatorLine(err);
    if (line !== undefined) {
      io.stderr.write(`${line}\n`);
      return 2;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      io.stderr.write(
        `fieldproof ${entry.name}: ${(err as Error).message} (see fieldproof ${entry.name} --help)\n`,
      );
      return 2;
    }
    io.stderr.write(
      `fieldproof ${entry.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'fieldproof — tamper-evident field evidence',
    '',
    'Usage: fieldproof <command> [options]    (fieldproof <command> --help for details and an example)',
    "       fieldproof --version                 (or -V: this installation's version and its Node.js)",
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

function help(entry: CommandEntry, command: Command): string {
  return `${entry.summary}\n\nUsage:\n${indent(command.usage)}\n\nExample:\n${indent(command.example)}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
