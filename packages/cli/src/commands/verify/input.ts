import fs from 'node:fs/promises';
import { UsageError } from '../../command.js';

/** Input that cannot be read: reported as one line, exit 2 like a usage error. */
export class InputError extends UsageError {}

export async function readBytes(file: string, what: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new InputError(
      `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export async function readText(file: string, what: string): Promise<string> {
  return Buffer.from(await readBytes(file, what)).toString('utf8');
}

export async function readJson(file: string, what: string): Promise<unknown> {
  return parseJson(await readText(file, what), file);
}

export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`${source} is not JSON: ${(err as Error).message}`);
  }
}
