import fs from 'node:fs/promises';
import path from 'node:path';
import { createReceiptChecker, isBundle, validateBundleEnvelope } from '@fieldproof/proofs';
import type { ReceiptCheckerOptions } from '@fieldproof/proofs';
import { toHex } from '@fieldproof/merkle';
import { formatKeyId, parseCheckpoint, parseSignedNote } from '@fieldproof/note';
import {
  ReceiptFormatError,
  validateConsistencyProof,
  validateReceipt,
  verifyConsistencyBetween,
} from '@fieldproof/receipt';
import type { ConsistencyProof, LinkVerdict, Receipt, Verification } from '@fieldproof/receipt';
import type { Command, CommandContext } from '../command.js';
import { UsageError } from '../command.js';

/**
 * `fieldproof verify`: checks a receipt, a bundle of receipts, or the consistency of two checkpoints —
 * with nothing but the files (and, if asked, chain RPC URLs): no device, no database, no api needed for
 * receipts. Exit 0 only if every requested check holds, 1 if one failed, 2 for a usage error or input
 * that cannot be read. docs/RECEIPTS.md explains every link.
 */
export const verifyCommand: Command = {
  usage: `fieldproof verify <receipt.json | bundle.json | -> [--content FILE | --content-dir DIR] [--rpc URL ...]
                  [--min-confirmations N] [--require-final] [--expect-key VKEY] [--json]
      One verdict per link: format, content, leaf, inclusion, checkpoint, signature, one per anchor
      (anchor:<chainId>:<txHash>), and with --rpc "anchors". Each is ok, failed or unchecked.
      -                     read the receipt or bundle from standard input (named "-" in the report)
      A long bundle reports progress on stderr every 1000 receipts or every second.
      --content FILE        the record's content: its SHA-256 (or that of its RFC 8785 JSON) must be the digest
      --content-dir DIR     for a bundle: content files named by digest or by evidence id, where present;
                            a folder that cannot be read, or holds the content of no receipt, is refused
      --rpc URL             a JSON-RPC endpoint (repeat for several chains; matched by eth_chainId). Each
                            anchor's transaction, calldata, block, time and confirmations are checked, and
                            at least one anchor must verify. Without --rpc the anchors stay unchecked.
      --min-confirmations N confirmations an anchor's block needs (default 1)
      --require-final       an anchor's block must be at or below the chain's finalized block
      --expect-key VKEY     the device verifier key (from "fieldproof device") the checkpoint must be signed
                            by; without it a receipt is only shown to be signed by the key it names
      --json                one JSON object instead of lines

fieldproof verify --consistency OLD [NEW] (--proof FILE | --api URL [--api-key KEY]) [--expect-key VKEY] [--json]
      Proves the log of NEW extends the log of OLD (it only appended). OLD and NEW are checkpoint notes as
      files: a signed note, a receipt, or a GET /v1/log/checkpoint answer. The key comes from --expect-key,
      else from OLD (a receipt or checkpoint answer names it); a bare note needs --expect-key (the key
      "fieldproof device" prints). --proof FILE is a GET /v1/log/consistency answer, exactly
      {"from","to","proof"}; --api fetches it (and, without NEW, the api's latest checkpoint) with the
      read key from --api-key or FIELDPROOF_API_KEY.

Exit status: 0 every requested check holds (unchecked links are listed), 1 a check failed (a bundle
with no receipts fails: nothing was verified), 2 usage or unreadable input.`,
  example: `fieldproof verify receipt.json --content photo.jpg --expect-key 'unit-7+d9100086+ASMOt6…'
fieldproof verify receipt.json --rpc https://sepolia.example/rpc --min-confirmations 12 --json
fieldproof verify bundle.json --content-dir ./evidence --rpc https://sepolia.example/rpc
curl -s -H "Authorization: Bearer $KEY" http://127.0.0.1:8080/v1/evidence/$ID/receipt | fieldproof verify -
FIELDPROOF_API_KEY=fp_… fieldproof verify --consistency kept-checkpoint.txt --api https://unit-7.example:8080 \
    --expect-key 'unit-7+d9100086+ASMOt6…'`,
  options: {
    content: { type: 'string' },
    'content-dir': { type: 'string' },
    rpc: { type: 'string', multiple: true },
    'min-confirmations': { type: 'string' },
    'require-final': { type: 'boolean' },
    'expect-key': { type: 'string' },
    json: { type: 'boolean' },
    consistency: { type: 'boolean' },
    proof: { type: 'string' },
    api: { type: 'string' },
    'api-key': { type: 'string' },
  },
  async run(ctx) {
    return ctx.values.consistency === true ? verifyConsistency(ctx) : verifyReceipts(ctx);
  },
};

type Values = CommandContext['values'];

const str = (values: Values, name: string): string | undefined =>
  typeof values[name] === 'string' ? values[name] : undefined;

// ---------------------------------------------------------------------------------------------------
// Receipts and bundles

async function verifyReceipts(ctx: CommandContext): Promise<number> {
  const { positionals, values, cwd, stdout } = ctx;
  for (const name of ['proof', 'api', 'api-key']) {
    if (values[name] !== undefined) throw new UsageError(`--${name} belongs to verify --consistency`);
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one receipt or bundle file');
  const file = positionals[0]!;
  const rpcUrls = (Array.isArray(values.rpc) ? values.rpc : []).filter(
    (u): u is string => typeof u === 'string',
  );
  for (const url of rpcUrls) {
    if (!/^https?:\/\//.test(url)) throw new UsageError(`--rpc ${url}: expected an http(s) URL`);
  }
  const minConfirmations = str(values, 'min-confirmations');
  if (minConfirmations !== undefined && !/^[1-9][0-9]{0,8}$/.test(minConfirmations)) {
    throw new UsageError('--min-confirmations must be a whole number ≥ 1');
  }
  if (rpcUrls.length === 0 && (minConfirmations !== undefined || values['require-final'] === true)) {
    throw new UsageError('--min-confirmations and --require-final need --rpc');
  }
  const options: ReceiptCheckerOptions = {
    rpcUrls,
    ...(minConfirmations === undefined ? {} : { minConfirmations: Number(minConfirmations) }),
    ...(values['require-final'] === true ? { requireFinality: true } : {}),
    ...(str(values, 'expect-key') === undefined ? {} : { expectedPublicKey: str(values, 'expect-key') }),
  };
  const checker = createReceiptChecker(options);
  const json = values.json === true;
  const document =
    file === '-'
      ? parseJson(await readStream(ctx.stdin, 'standard input'), 'standard input')
      : await readJson(path.resolve(cwd, file), 'receipt or bundle');
  const contentFile = str(values, 'content');
  const contentDir = str(values, 'content-dir');

  if (!isBundle(document)) {
    if (contentDir !== undefined) throw new UsageError('--content-dir is for bundles; use --content FILE');
    const content =
      contentFile === undefined ? undefined : await readBytes(path.resolve(cwd, contentFile), 'content');
    const verification = await checker.check(document, content);
    stdout.write(
      json ? `${JSON.stringify(receiptJson(file, verification))}\n` : receiptText(file, verification),
    );
    return verification.ok ? 0 : 1;
  }

  if (contentFile !== undefined)
    throw new UsageError('--content is for one receipt; use --content-dir DIR for a bundle');
  const contents = contentDir === undefined ? undefined : await listContentDir(path.resolve(cwd, contentDir));
  let bundle;
  try {
    bundle = validateBundleEnvelope(document);
  } catch (err) {
    const verdict: LinkVerdict = { link: 'bundle', status: 'failed', detail: (err as Error).message };
    stdout.write(json ? `${JSON.stringify({ file, ok: false, links: [verdict] })}\n` : `${line(verdict)}\n`);
    return 1;
  }
  if (contents !== undefined && !bundle.receipts.some((r) => contentNameOf(r, contents) !== undefined)) {
    // Asked to compare content, it could compare none: passing would vouch for a check never made.
    throw new InputError(
      `--content-dir ${contents.dir} holds the content of none of the ${bundle.receipts.length} receipts ` +
        '(files are looked up by evidence digest or evidence id)',
    );
  }
  const bundleKey = typeof bundle.log?.publicKey === 'string' ? bundle.log.publicKey : undefined;
  const reports: ReturnType<typeof receiptJson>[] = [];
  let failed = 0;
  const unchecked = new Map<string, number>();
  const progress = bundleProgress(ctx, bundle.receipts.length);
  for (const [i, receipt] of bundle.receipts.entries()) {
    progress(i, failed);
    const name = contents === undefined ? undefined : contentNameOf(receipt, contents);
    const content =
      name === undefined ? undefined : await readBytes(path.join(contents!.dir, name), 'content');
    let verification = await checker.check(receipt, content);
    const named = (receipt as { device?: { publicKey?: unknown } }).device?.publicKey;
    if (bundleKey !== undefined && verification.links[0]?.status === 'ok' && named !== bundleKey) {
      // Not a proof of anything on its own, but a bundle mixing devices unannounced is not what it claims.
      const verdict: LinkVerdict = {
        link: 'bundle',
        status: 'failed',
        detail: `signed by another key than the bundle's ${bundleKey}`,
      };
      verification = { ok: false, links: [...verification.links, verdict] };
    }
    if (!verification.ok) failed++;
    for (const l of verification.links) {
      if (l.status === 'unchecked') unchecked.set(kindOf(l.link), (unchecked.get(kindOf(l.link)) ?? 0) + 1);
    }
    const report = receiptJson(`${file}#receipts[${i}]`, verification);
    if (json) reports.push(report);
    else stdout.write(bundleLine(i, receipt, verification));
  }
  const total = bundle.receipts.length;
  const summary = { total, verified: total - failed, failed, unchecked: Object.fromEntries(unchecked) };
  if (json) {
    stdout.write(
      `${JSON.stringify({ file, format: bundle.format, ok: failed === 0, summary, receipts: reports })}\n`,
    );
  } else {
    const uncheckedText = [...unchecked].map(([link, n]) => `${link} on ${n}`).join(', ');
    stdout.write(
      `bundle ${file}: ${total} receipt(s), ${summary.verified} verified, ${failed} failed` +
        (uncheckedText === '' ? '' : `; unchecked: ${uncheckedText}`) +
        `\nverdict: ${failed === 0 ? 'VERIFIED — every requested check holds for every receipt' : 'FAILED'}\n`,
    );
  }
  return failed === 0 ? 0 : 1;
}

/** Progress on stderr for a long bundle (stdout holds the report): every 1000 receipts or 1 s, whichever first. */
const PROGRESS_EVERY = 1000;
const PROGRESS_INTERVAL_MS = 1000;

function bundleProgress(ctx: CommandContext, total: number): (checked: number, failed: number) => void {
  const started = ctx.now();
  let last = started;
  let lastCount = 0;
  return (checked, failed) => {
    if (checked === 0) return;
    const now = ctx.now();
    if (checked - lastCount < PROGRESS_EVERY && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    lastCount = checked;
    ctx.stderr.write(
      `verify: ${checked}/${total} receipts checked, ${failed} failed (${((now - started) / 1000).toFixed(1)} s)\n`,
    );
  };
}

function receiptJson(file: string, verification: Verification) {
  return {
    file,
    ok: verification.ok,
    links: verification.links,
    failed: verification.links.filter((l) => l.status === 'failed').map((l) => l.link),
    unchecked: verification.links.filter((l) => l.status === 'unchecked').map((l) => l.link),
  };
}

function receiptText(file: string, verification: Verification): string {
  const report = receiptJson(file, verification);
  const verdict = verification.ok
    ? `VERIFIED — every requested check holds${report.unchecked.length > 0 ? `; unchecked: ${report.unchecked.join(', ')}` : ''}`
    : `FAILED — broken: ${report.failed.join(', ')}`;
  return `${verification.links.map(line).join('\n')}\nverdict: ${verdict}\n`;
}

function bundleLine(i: number, receipt: unknown, verification: Verification): string {
  const r = receipt as { evidence?: { id?: unknown }; leaf?: { leafIndex?: unknown } };
  const id = typeof r.evidence?.id === 'string' ? r.evidence.id : '?';
  const leaf = typeof r.leaf?.leafIndex === 'number' ? `leaf ${r.leaf.leafIndex}` : '';
  const head = `${verification.ok ? 'ok    ' : 'FAILED'} receipts[${i}] ${id} ${leaf}`.trimEnd();
  if (verification.ok) return `${head}\n`;
  const broken = verification.links.filter((l) => l.status === 'failed').map((l) => `    ${line(l)}`);
  return `${head}\n${broken.join('\n')}\n`;
}

function line(verdict: LinkVerdict): string {
  return `${verdict.status.padEnd(9)} ${verdict.link}: ${verdict.detail}`;
}

/** `anchor:<chainId>:<txHash>` counts as `anchor` in a bundle summary. */
function kindOf(link: string): string {
  return link.startsWith('anchor:') ? 'anchor' : link;
}

interface ContentDir {
  readonly dir: string;
  readonly names: ReadonlySet<string>;
}

/** The file names of `--content-dir`, read once: a folder that cannot be listed is an input error. */
async function listContentDir(dir: string): Promise<ContentDir> {
  try {
    return { dir, names: new Set(await fs.readdir(dir)) };
  } catch (err) {
    throw new InputError(
      `cannot read the --content-dir folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** The content file of a bundle receipt: `DIR/<digest>`, else `DIR/<evidence id>`, when one exists. */
function contentNameOf(receipt: unknown, contents: ContentDir): string | undefined {
  const evidence = (receipt as { evidence?: { id?: unknown; digest?: unknown } }).evidence;
  for (const name of [evidence?.digest, evidence?.id]) {
    if (typeof name === 'string' && /^[A-Za-z0-9-]+$/.test(name) && contents.names.has(name)) return name;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Consistency

interface CheckpointFile {
  readonly note: string;
  /** The verifier key the file names (a receipt's device key, a checkpoint answer's verifierKey). */
  readonly key?: string;
}

async function verifyConsistency(ctx: CommandContext): Promise<number> {
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

/** The size line of a note, for choosing the proof to fetch; the verifier parses the note for real. */
function noteSize(note: string): number | undefined {
  const size = note.split('\n')[1];
  return size !== undefined && /^(0|[1-9][0-9]{0,15})$/.test(size) ? Number(size) : undefined;
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

// ---------------------------------------------------------------------------------------------------
// Input

/** Input that cannot be read: reported as one line, exit 2 like a usage error. */
class InputError extends UsageError {}

async function readBytes(file: string, what: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new InputError(
      `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

async function readText(file: string, what: string): Promise<string> {
  return Buffer.from(await readBytes(file, what)).toString('utf8');
}

async function readJson(file: string, what: string): Promise<unknown> {
  return parseJson(await readText(file, what), file);
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`${source} is not JSON: ${(err as Error).message}`);
  }
}

/** All of `stream` as UTF-8 (`verify -`: a receipt or bundle piped in, e.g. from curl). */
async function readStream(stream: NodeJS.ReadableStream, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  } catch (err) {
    throw new InputError(`cannot read ${what}: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
