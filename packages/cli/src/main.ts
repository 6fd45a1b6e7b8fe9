import { parseArgs } from 'node:util';
import { LegacyDataConflictError, configErrorLine } from '@fieldproof/config';
import type { Env } from '@fieldproof/config';
import {
  BackupError,
  DatabaseNewerThanCodeError,
  MigrationChecksumError,
  RestoreError,
} from '@fieldproof/db';
import type { Command } from './command.js';
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
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`fieldproof: unknown command "${name}" (see fieldproof --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(help(command));
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
    const line = operatorLine(err);
    if (line !== undefined) {
      io.stderr.write(`${line}\n`);
      return 2;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      io.stderr.write(
        `fieldproof ${command.name}: ${(err as Error).message} (see fieldproof ${command.name} --help)\n`,
      );
      return 2;
    }
    io.stderr.write(
      `fieldproof ${command.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}

/** The one-line form of errors that are the operator's to fix (configuration, migrations). */
export function operatorLine(err: unknown): string | undefined {
  const config = configErrorLine(err);
  if (config !== undefined) return config;
  if (err instanceof MigrationChecksumError || err instanceof DatabaseNewerThanCodeError) {
    return `fieldproof: refusing to start: ${err.message}`;
  }
  if (err instanceof BackupError || err instanceof RestoreError || err instanceof LegacyDataConflictError)
    return `fieldproof: ${err.message}`;
  return undefined;
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

function help(command: Command): string {
  return `${command.summary}\n\nUsage:\n${indent(command.usage)}\n\nExample:\n${indent(command.example)}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
