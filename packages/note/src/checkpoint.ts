import { decodeBase64Strict, encodeBase64, noteTextProblem } from './encoding.js';
import { MalformedCheckpointError } from './errors.js';

/**
 * A C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text a log signs.
 *
 * ```
 * <origin>\n
 * <tree size, decimal, no leading zeroes>\n
 * <root hash, base64>\n
 * [<extension line>\n ...]
 * ```
 */
export interface Checkpoint {
  /** Unique identity of the log; non-empty, one line. */
  readonly origin: string;
  /** Number of leaves; a non-negative safe integer. */
  readonly treeSize: number;
  /** RFC 6962 root hash of the first `treeSize` leaves: 32 bytes. */
  readonly root: Uint8Array;
  /** Optional opaque, non-empty extension lines (NOT RECOMMENDED by the spec). */
  readonly extensions?: readonly string[];
}

const HASH_SIZE = 32;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** Formats `checkpoint` as the note text to sign. Throws `MalformedCheckpointError` on bad input. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, treeSize, root, extensions = [] } = checkpoint;
  checkLine(origin, 'origin');
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) {
    throw new MalformedCheckpointError(
      `tree size must be a non-negative safe integer, got ${String(treeSize)}`,
    );
  }
  if (!(root instanceof Uint8Array) || root.length !== HASH_SIZE) {
    throw new MalformedCheckpointError(`root must be ${HASH_SIZE} bytes`);
  }
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  return [origin, String(treeSize), encodeBase64(root), ...extensions].map((line) => `${line}\n`).join('');
}

/**
 * Parses a checkpoint note text (the signed note's text, without signatures), strictly: it must end
 * with a newline, have an origin, a canonical decimal size, a base64 root of exactly 32 bytes, and
 * only non-empty extension lines.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw new MalformedCheckpointError('text must be a string');
  const problem = noteTextProblem(text);
  if (problem !== undefined) throw new MalformedCheckpointError(problem);
  if (!text.endsWith('\n')) throw new MalformedCheckpointError('text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new MalformedCheckpointError(`expected at least 3 lines, got ${lines.length}`);
  const [origin = '', size = '', root64 = '', ...extensions] = lines;
  if (origin === '') throw new MalformedCheckpointError('origin line is empty');
  if (!DECIMAL.test(size)) {
    throw new MalformedCheckpointError(
      `tree size line ${JSON.stringify(size)} is not a decimal without leading zeroes`,
    );
  }
  const treeSize = Number(size);
  if (!Number.isSafeInteger(treeSize)) {
    throw new MalformedCheckpointError(`tree size ${size} is larger than ${Number.MAX_SAFE_INTEGER}`);
  }
  const root = decodeBase64Strict(root64);
  if (root === undefined) throw new MalformedCheckpointError('root hash line is not canonical base64');
  if (root.length !== HASH_SIZE) {
    throw new MalformedCheckpointError(`root hash is ${root.length} bytes, expected ${HASH_SIZE}`);
  }
  extensions.forEach((line, i) => {
    if (line === '') throw new MalformedCheckpointError(`extension line ${i + 1} is empty`);
  });
  return extensions.length > 0 ? { origin, treeSize, root, extensions } : { origin, treeSize, root };
}

function checkLine(line: string, what: string): void {
  if (typeof line !== 'string' || line === '')
    throw new MalformedCheckpointError(`${what} must be a non-empty string`);
  if (line.includes('\n')) throw new MalformedCheckpointError(`${what} must not contain a newline`);
  const problem = noteTextProblem(line);
  if (problem !== undefined) throw new MalformedCheckpointError(`${what}: ${problem}`);
}
