import path from 'node:path';
import { toHex } from '@fieldproof/merkle';
import { formatKeyId, parseCheckpoint, parseSignedNote } from '@fieldproof/note/verify';
import {
  RECEIPT_FORMAT_V2,
  ReceiptFormatError,
  validateConsistencyProof,
  validateReceiptV2,
  validateReceipt,
  verifyConsistencyBetween,
} from '@fieldproof/receipt';
import type { ConsistencyProof, LinkVerdict, Receipt, ReceiptV2 } from '@fieldproof/receipt';
import type { CommandContext } from '../../command.js';
import { UsageError } from '../../command.js';
import { InputError, readJson, readText } from './input.js';
import { line, str } from './report.js';

/**
 * `fieldproof verify --consistency OLD [NEW]`: the log of NEW extends the log of OLD (it only appended),
 * by a consistency proof from a file or fetched from the api.
 */

interface CheckpointFile {
  readonly note: string;
  /** The verifier key the file names (a receipt's device key, a checkpoint answer's verifierKey). */
  readonly key?: string;
}

export async function verifyConsistency(ctx: CommandContext): Promise<number> {
  const { positionals, values, env, cwd, stdout } = ctx;
  for (const name of ['content', 'content-dir', 'rpc', 'min-confirmations', 'require-final']) {
    if (values[name] !== undefined) throw new UsageError(`--${name} is for receipts, not --consistency`);
  }
  const proofFile = str(values, 'proof');
  const api = str(values, 'api');
  if ((proofFile === undefined) === (api === undefined))
    throw new UsageError('give one of --proof FILE or --api URL');
  if (positionals.length < 1 || positionals.length > 2)
    throw new UsageError('give OLD and NEW checkpoint files (NEW may be left out with --api)');
  if (positionals.length === 1 && api === undefined)
    throw new UsageError('without NEW, --api URL must provide the latest checkpoint');
  if (api !== undefined && !/^https?:\/\//.test(api))
    throw new UsageError(`--api ${api}: expected an http(s) URL`);
  const apiKey = str(values, 'api-key') ?? env.FIELDPROOF_API_KEY;
  const older = await readCheckpointFile(path.resolve(cwd, positionals[0]!));
  const key = str(values, 'expect-key') ?? older.key;
  if (key === undefined) throw new UsageError(missingKeyMessage(positionals[0]!, older.note));
  const fetchJson = async (route: string) => apiGet(api!, route, apiKey);
  const newer =
    positionals[1] !== undefined
      ? await readCheckpointFile(path.resolve(cwd, positionals[1]))
      : checkpointFromJson(await fetchJson('/v1/log/checkpoint'), `${api}/v1/log/checkpoint`);
  const sizes = { from: noteSize(older.note), to: noteSize(newer.note) };

  let proof: string[] = [];
  const extra: LinkVerdict[] = [];
  if (sizes.from !== undefined && sizes.to !== undefined && sizes.from <= sizes.to && sizes.from > 0) {
    const answer =
      proofFile !== undefined
        ? await readJson(path.resolve(cwd, proofFile), 'consistency proof')
        : await fetchJson(`/v1/log/consistency?from=${sizes.from}&to=${sizes.to}`);
    const parsed = proofFromJson(answer, proofFile ?? `${api}/v1/log/consistency`);
    if (parsed.from !== sizes.from || parsed.to !== sizes.to) {
      extra.push({
        link: 'proof',
        status: 'failed',
        detail: `the proof is for tree sizes ${parsed.from} → ${parsed.to}, the checkpoints are ${sizes.from} → ${sizes.to}`,
      });
    }
    proof = [...parsed.proof];
  }
  const result = verifyConsistencyBetween(older.note, newer.note, proof, key);
  const links = [...extra, ...result.links];
  const ok = links.every((l) => l.status !== 'failed');
  if (values.json === true) {
    stdout.write(`${JSON.stringify({ ok, from: sizes.from ?? null, to: sizes.to ?? null, key, links })}\n`);
  } else {
    stdout.write(
      `${links.map(line).join('\n')}\nverdict: ${
        ok
          ? `VERIFIED — the log at tree size ${sizes.to} extends the kept checkpoint at ${sizes.from}`
          : `FAILED — broken: ${links
              .filter((l) => l.status === 'failed')
              .map((l) => l.link)
              .join(', ')}`
      }\n`,
    );
  }
  return ok ? 0 : 1;
}

async function readCheckpointFile(file: string): Promise<CheckpointFile> {
  const text = await readText(file, 'checkpoint');
  // A signed note never holds a CR, and ends with a newline: undo what editors and mail do to a kept copy.
  if (!text.trimStart().startsWith('{')) return { note: `${text.replace(/\r\n/g, '\n').trimEnd()}\n` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not JSON and not a checkpoint note (${(err as Error).message})`);
  }
  return checkpointFromJson(value, file);
}

/**
 * A receipt (`checkpoint.note`, `device.publicKey`) or a checkpoint answer (`note`, `verifierKey`), read
 * strictly: a malformed receipt, an unknown field, or a copy (origin, treeSize, root) that is not what the
 * signed note says is refused — only the note is verified, so anything else in the file must agree with it
 * or be absent, never silently ignored.
 */
function checkpointFromJson(value: unknown, where: string): CheckpointFile {
  if (isObject(value) && value.format === RECEIPT_FORMAT_V2) {
    let receipt: ReceiptV2;
    try {
      receipt = validateReceiptV2(value);
    } catch (err) {
      if (err instanceof ReceiptFormatError) throw new InputError(`${where}: ${err.message}`);
      throw err;
    }
    const step = receipt.steps[2];
    if (step?.type !== 'checkpoint')
      throw new InputError(`${where}: the receipt's third step is not its checkpoint`);
    return { note: step.note, key: step.publicKey };
  }
  if (isObject(value) && 'format' in value) {
    let receipt: Receipt;
    try {
      receipt = validateReceipt(value);
    } catch (err) {
      if (err instanceof ReceiptFormatError) throw new InputError(`${where}: ${err.message}`);
      throw err;
    }
    checkCopies(receipt.checkpoint.note, receipt.checkpoint, `${where}: receipt.checkpoint`);
    return { note: receipt.checkpoint.note, key: receipt.device.publicKey };
  }
  if (!isObject(value) || typeof value.note !== 'string') {
    throw new InputError(
      `${where}: holds no checkpoint note (expected a receipt or a GET /v1/log/checkpoint answer)`,
    );
  }
  const types: Record<string, (v: unknown) => boolean> = {
    note: (v) => typeof v === 'string',
    verifierKey: (v) => typeof v === 'string' && v !== '',
    origin: (v) => typeof v === 'string',
    treeSize: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
    root: (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
    createdAt: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
  };
  for (const [field, v] of Object.entries(value)) {
    const check = types[field];
    if (check === undefined) throw new InputError(`${where}: ${field} is not a field of a checkpoint answer`);
    if (!check(v))
      throw new InputError(`${where}: ${field} is malformed (${JSON.stringify(v).slice(0, 40)})`);
  }
  checkCopies(value.note, value, where);
  return typeof value.verifierKey === 'string'
    ? { note: value.note, key: value.verifierKey }
    : { note: value.note };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses a file whose copies of origin, tree size or root are not those of its signed note. */
function checkCopies(
  note: string,
  copies: { origin?: unknown; treeSize?: unknown; root?: unknown },
  where: string,
) {
  let checkpoint;
  try {
    checkpoint = parseCheckpoint(parseSignedNote(note).text);
  } catch {
    return; // a malformed note fails its checkpoint link
  }
  const signed = { origin: checkpoint.origin, treeSize: checkpoint.treeSize, root: toHex(checkpoint.root) };
  for (const field of ['origin', 'treeSize', 'root'] as const) {
    if (copies[field] !== undefined && copies[field] !== signed[field]) {
      throw new InputError(
        `${where}: ${field} ${JSON.stringify(copies[field])} is not the signed note's ${JSON.stringify(signed[field])}`,
      );
    }
  }
}

/** The tree size a note signs, for choosing the proof to fetch (undefined: the verifier reports the note). */
function noteSize(note: string): number | undefined {
  try {
    return parseCheckpoint(parseSignedNote(note).text).treeSize;
  } catch {
    return undefined;
  }
}

/** A `{from, to, proof}` answer, exactly: a proof file with a string size or an unknown field is refused. */
function proofFromJson(value: unknown, where: string): ConsistencyProof {
  try {
    return validateConsistencyProof(value);
  } catch (err) {
    if (err instanceof ReceiptFormatError) throw new InputError(`${where}: ${err.message}`);
    throw err;
  }
}

/**
 * Why a bare note is not enough, and what to pass. The note's signature lines name the signer (name and
 * key id) but not the public key; taking the key from the api would let the audited device pick the key
 * it is checked against, so the auditor pins the one `fieldproof device` printed at commissioning.
 */
function missingKeyMessage(file: string, note: string): string {
  let signers: string[] = [];
  try {
    signers = parseSignedNote(note).signatures.map((s) => `${s.name}+${formatKeyId(s.keyId)}`);
  } catch {
    // not a signed note: the verifier reports that once it has a key
  }
  const example = signers.length === 1 ? `'${signers[0]}+…'` : 'VKEY';
  return (
    `${file} is a bare checkpoint note${signers.length > 0 ? ` signed by ${signers.join(', ')}` : ''}: ` +
    `pin the device key with --expect-key ${example}, the verifier key printed by "fieldproof device" ` +
    'on the unit (or keep a receipt, which names its key)'
  );
}

async function apiGet(base: string, route: string, apiKey: string | undefined): Promise<unknown> {
  const url = `${base.replace(/\/+$/, '').replace(/\/v1$/, '')}${route}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: {
        accept: 'application/json',
        ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
      },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new InputError(`GET ${url}: ${(err as Error).message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text.slice(0, 200);
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      message = `${body.code ?? ''} ${body.message ?? ''}`.trim();
    } catch {
      // not JSON: keep the text
    }
    throw new InputError(`GET ${url}: ${response.status} ${message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InputError(`GET ${url}: the answer is not JSON`);
  }
}
