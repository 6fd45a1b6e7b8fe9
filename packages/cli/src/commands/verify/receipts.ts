import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  BUNDLE_FORMAT,
  BundleFormatError,
  TrustedBlocksError,
  checkStreamedBundle,
  createReceiptChecker,
  parseTrustedBlocks,
  readBundleStream,
  type ReceiptCheckerOptions,
  type BundleEvent,
  type LinkVerdict,
  type StreamedDocument,
  type Verification,
} from '@fieldproof/receipt';
import { createNoteVerifier } from '@fieldproof/note/verify';
import type { CommandContext } from '../../command.js';
import { UsageError } from '../../command.js';
import { InputError, readBytes, readText } from './input.js';
import { bundleLine, kindOf, line, receiptJson, receiptLabel, receiptText, str, strings } from './report.js';

/**
 * `fieldproof verify FILE|-`: one receipt or a bundle, read as a stream (a bundle holds one receipt in
 * memory at a time), each receipt through `createReceiptChecker` — which carries the library's rules:
 * anchors to a canonical block when a chain source is given, and one RPC call per distinct block.
 */
export async function verifyReceipts(ctx: CommandContext): Promise<number> {
  const { positionals, values } = ctx;
  for (const name of ['proof', 'api', 'api-key']) {
    if (values[name] !== undefined) throw new UsageError(`--${name} belongs to verify --consistency`);
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one receipt or bundle file');
  const file = positionals[0]!;
  const options = await checkerOptions(ctx);

  const source = file === '-' ? 'standard input' : file;
  const input = await openInput(ctx, file);
  try {
    return await verifyStream(ctx, file, source, input.chunks, options);
  } finally {
    await input.close();
  }
}

async function verifyStream(
  ctx: CommandContext,
  file: string,
  source: string,
  chunks: AsyncIterable<Uint8Array | string>,
  options: ReceiptCheckerOptions,
): Promise<number> {
  const { values, cwd, stdout } = ctx;
  const checker = createReceiptChecker(options);
  const json = values.json === true;
  const contentFile = str(values, 'content');
  const contentDir = str(values, 'content-dir');
  const events = readBundleStream(chunks);
  // Fields are read until the document shows what it is: a bundle by its format or its receipts array.
  const pending: BundleEvent[] = [];
  let event: IteratorResult<BundleEvent, StreamedDocument> = await nextEvent(events, source);
  for (; event.done !== true; event = await nextEvent(events, source)) {
    pending.push(event.value);
    if (event.value.kind === 'receipt' || (event.value.kind === 'field' && event.value.name === 'format'))
      break;
  }
  const isBundle = pending.some(
    (e) => e.kind === 'receipt' || (e.kind === 'field' && e.name === 'format' && e.value === BUNDLE_FORMAT),
  );
  if (!isBundle) {
    if (contentDir !== undefined) throw new UsageError('--content-dir is for bundles; use --content FILE');
    // One receipt: read it whole (it is small), then verify.
    while (event.done !== true) event = await nextEvent(events, source);
    const content =
      contentFile === undefined ? undefined : await readBytes(path.resolve(cwd, contentFile), 'content');
    const verification = await checker.check(event.value.envelope, content);
    stdout.write(
      json ? `${JSON.stringify(receiptJson(file, verification))}\n` : receiptText(file, verification),
    );
    return verification.ok ? 0 : 1;
  }

  if (contentFile !== undefined)
    throw new UsageError('--content is for one receipt; use --content-dir DIR for a bundle');
  const contents = contentDir === undefined ? undefined : await listContentDir(path.resolve(cwd, contentDir));
  let failed = 0;
  let total = 0;
  let contentFound = 0;
  let bundleKey: string | undefined;
  let logSeen = false;
  /** Device keys named by receipts verified before the bundle's `log` was read (a writer may put it last). */
  const earlyKeys = new Map<string, number>();
  const unchecked = new Map<string, number>();
  const progress = bundleProgress(ctx);
  // With --content-dir, output waits for the first receipt whose content is found: a folder holding
  // none is refused (exit 2) with nothing on stdout, as before streaming.
  let held: string[] | undefined = contents === undefined ? undefined : [];
  const out = (text: string) => {
    if (held === undefined) stdout.write(text);
    else held.push(text);
  };
  const release = () => {
    if (held === undefined) return;
    for (const text of held) stdout.write(text);
    held = undefined;
  };
  if (json) out(`{"file":${JSON.stringify(file)},"format":${JSON.stringify(BUNDLE_FORMAT)},"receipts":[`);

  async function* all(): AsyncGenerator<BundleEvent, StreamedDocument> {
    yield* pending;
    if (event.done === true) return event.value;
    for (
      event = await nextEvent(events, source);
      event.done !== true;
      event = await nextEvent(events, source)
    ) {
      yield event.value;
    }
    return event.value;
  }
  const stream = all();
  try {
    let item = await stream.next();
    for (; item.done !== true; item = await stream.next()) {
      const e: BundleEvent = item.value;
      if (e.kind === 'field') {
        if (e.name === 'log') {
          logSeen = true;
          const key = (e.value as { publicKey?: unknown } | null)?.publicKey;
          bundleKey = typeof key === 'string' ? key : undefined;
        }
        continue;
      }
      progress(total, failed);
      const receipt = e.value;
      const name = contents === undefined ? undefined : contentNameOf(receipt, contents);
      if (name !== undefined) {
        contentFound++;
        release();
      }
      const content =
        name === undefined ? undefined : await readBytes(path.join(contents!.dir, name), 'content');
      let verification = await checker.check(receipt, content);
      const named = receiptLabel(receipt).deviceKey;
      if (!logSeen && named !== undefined) earlyKeys.set(named, (earlyKeys.get(named) ?? 0) + 1);
      if (bundleKey !== undefined && verification.links[0]?.status === 'ok' && named !== bundleKey) {
        verification = withLink(verification, mixedKey(bundleKey));
      }
      if (!verification.ok) failed++;
      for (const l of verification.links) {
        if (l.status === 'unchecked') unchecked.set(kindOf(l.link), (unchecked.get(kindOf(l.link)) ?? 0) + 1);
      }
      if (json)
        out(
          `${total > 0 ? ',' : ''}\n${JSON.stringify(receiptJson(`${file}#receipts[${e.index}]`, verification))}`,
        );
      else out(bundleLine(e.index, receipt, verification));
      total++;
    }
    checkStreamedBundle(item.value);
  } catch (err) {
    if (!(err instanceof BundleFormatError)) throw err;
    release();
    const verdict: LinkVerdict = { link: 'bundle', status: 'failed', detail: err.message };
    out(json ? `],"ok":false,"links":[${JSON.stringify(verdict)}]}\n` : `${line(verdict)}\n`);
    return 1;
  }
  // The bundle's key came after its receipts: the same rule, applied to the receipts as a whole.
  const lateMix: LinkVerdict[] = [];
  if (bundleKey !== undefined) {
    for (const [key, n] of earlyKeys) {
      if (key === bundleKey) continue;
      failed += n;
      lateMix.push(mixedKey(bundleKey, `${n} receipt(s) signed by ${key}`));
    }
  }
  if (contents !== undefined && contentFound === 0) {
    // Asked to compare content, it could compare none: passing would vouch for a check never made.
    throw new InputError(
      `--content-dir ${contents.dir} holds the content of none of the ${total} receipts ` +
        '(files are looked up by evidence digest or evidence id)',
    );
  }
  release();
  const summary = { total, verified: total - failed, failed, unchecked: Object.fromEntries(unchecked) };
  if (json) {
    out(
      `\n],"ok":${failed === 0},"summary":${JSON.stringify(summary)}${lateMix.length > 0 ? `,"links":${JSON.stringify(lateMix)}` : ''}}\n`,
    );
  } else {
    const uncheckedText = [...unchecked].map(([link, n]) => `${link} on ${n}`).join(', ');
    out(
      lateMix.map((l) => `${line(l)}\n`).join('') +
        `bundle ${file}: ${total} receipt(s), ${summary.verified} verified, ${failed} failed` +
        (uncheckedText === '' ? '' : `; unchecked: ${uncheckedText}`) +
        `\nverdict: ${failed === 0 ? 'VERIFIED — every requested check holds for every receipt' : 'FAILED'}\n`,
    );
  }
  return failed === 0 ? 0 : 1;
}

/** Not a proof of anything on its own, but a bundle mixing devices unannounced is not what it claims. */
function mixedKey(bundleKey: string, what = 'signed'): LinkVerdict {
  return {
    link: 'bundle',
    status: 'failed',
    detail: `${what === 'signed' ? 'signed' : what} by another key than the bundle's ${bundleKey}`,
  };
}

function withLink(verification: Verification, link: LinkVerdict): Verification {
  return { ...verification, ok: false, links: [...verification.links, link] };
}

async function nextEvent(events: AsyncGenerator<BundleEvent, StreamedDocument>, source: string) {
  try {
    return await events.next();
  } catch (err) {
    if (err instanceof BundleFormatError && err.path === 'bundle')
      throw new InputError(`${source} is not JSON: ${err.reason}`);
    throw err;
  }
}

async function checkerOptions(ctx: CommandContext): Promise<ReceiptCheckerOptions> {
  const { values, cwd } = ctx;
  const rpcUrls = strings(values, 'rpc');
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
  const trustedFile = str(values, 'trusted-blocks');
  let trusted: Map<string, string> | undefined;
  if (trustedFile !== undefined) {
    const resolved = path.resolve(cwd, trustedFile);
    try {
      trusted = parseTrustedBlocks(await readText(resolved, 'trusted blocks'), trustedFile);
    } catch (err) {
      if (err instanceof TrustedBlocksError) throw new InputError(err.message);
      throw err;
    }
  }
  const witnessKeys = strings(values, 'witness-key');
  const fleetKeys = strings(values, 'fleet-key');
  for (const key of fleetKeys) {
    try {
      createNoteVerifier(key);
    } catch (err) {
      throw new UsageError(`--fleet-key ${key}: ${(err as Error).message}`);
    }
  }
  return {
    rpcUrls,
    ...(minConfirmations === undefined ? {} : { minConfirmations: Number(minConfirmations) }),
    ...(values['require-final'] === true ? { requireFinality: true } : {}),
    ...(str(values, 'expect-key') === undefined ? {} : { expectedPublicKey: str(values, 'expect-key') }),
    ...(trusted === undefined ? {} : { trustedBlocks: trusted }),
    ...(witnessKeys.length === 0 ? {} : { witnessKeys }),
    ...(fleetKeys.length === 0 ? {} : { fleetKeys }),
  };
}

/** The receipt or bundle as chunks: a file (checked readable first: exit 2, not a stack) or stdin for `-`. */
async function openInput(
  ctx: CommandContext,
  file: string,
): Promise<{ chunks: AsyncIterable<Uint8Array | string>; close(): Promise<void> }> {
  if (file === '-') return { chunks: ctx.stdin as AsyncIterable<Uint8Array | string>, close: async () => {} };
  const resolved = path.resolve(ctx.cwd, file);
  let handle;
  try {
    handle = await fs.open(resolved, 'r');
  } catch (err) {
    throw new InputError(
      `cannot read the receipt or bundle file ${resolved}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const stream = createReadStream(resolved, { fd: handle, highWaterMark: 1 << 20, autoClose: false });
  return {
    chunks: stream,
    async close() {
      stream.destroy();
      await handle.close();
    },
  };
}

/** Progress on stderr for a long bundle (stdout holds the report): every 1000 receipts or 1 s, whichever first. */
const PROGRESS_EVERY = 1000;
const PROGRESS_INTERVAL_MS = 1000;

function bundleProgress(ctx: CommandContext): (checked: number, failed: number) => void {
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
      `verify: ${checked} receipts checked, ${failed} failed (${((now - started) / 1000).toFixed(1)} s)\n`,
    );
  };
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
