import { BUNDLE_FORMAT, BundleFormatError } from './bundle.js';

/** A bundle's top-level fields other than `receipts`. */
export type BundleEnvelope = Record<string, unknown>;

/** What the stream held: its top-level fields, and how many receipts it yielded. */
export interface StreamedDocument {
  readonly envelope: BundleEnvelope;
  readonly receipts: number;
  readonly sawReceipts: boolean;
}

export type BundleEvent =
  | { readonly kind: 'field'; readonly name: string; readonly value: unknown }
  | { readonly kind: 'receipt'; readonly index: number; readonly value: unknown };

type Phase =
  'start' | 'key' | 'colon' | 'value' | 'in-value' | 'in-scalar' | 'after' | 'items' | 'in-item' | 'end';

/**
 * Reads a `fieldproof-bundle/v1` document as a stream of chunks: yields each top-level field but
 * `receipts` when it ends, and each element of `receipts` parsed on its own — one receipt in memory at a
 * time, however long the bundle. Any JSON layout is read (the writer's one receipt per line is not relied
 * on). Any top-level JSON object reads (a single receipt yields its fields): the caller decides from the
 * `format` field, and checks a bundle's envelope at the end with {@link checkStreamedBundle}. Throws
 * {@link BundleFormatError} for JSON that is malformed or cut short.
 */
export async function* readBundleStream(
  chunks: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<BundleEvent, StreamedDocument> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const envelope: BundleEnvelope = {};
  let receipts = 0;
  let sawReceipts = false;
  let phase: Phase = 'start';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let key = '';
  /** The text of the value being read: `prefix` from earlier chunks, then this chunk from `from`. */
  let capture: { prefix: string; from: number } | undefined;

  const fail = (reason: string): never => {
    throw new BundleFormatError('bundle', reason);
  };
  const parse = (text: string, where: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      return fail(`${where} is not JSON (${(err as Error).message})`);
    }
  };
  const take = (text: string, end: number): string => {
    const value = capture!.prefix + text.slice(capture!.from, end);
    capture = undefined;
    return value;
  };

  function* scan(text: string): Generator<BundleEvent> {
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') {
          inString = false;
          if (phase === 'key') {
            key = parse(take(text, i + 1), 'a field name') as string;
            phase = 'colon';
          } else if (phase === 'in-value' && depth === 1) {
            const value = parse(take(text, i + 1), key);
            envelope[key] = value;
            yield { kind: 'field', name: key, value };
            phase = 'after';
          }
        }
        continue;
      }
      const space = c === ' ' || c === '\n' || c === '\r' || c === '\t';
      if (phase === 'in-scalar') {
        if (!space && c !== ',' && c !== '}') continue;
        const value = parse(take(text, i), key);
        envelope[key] = value;
        yield { kind: 'field', name: key, value };
        phase = 'after';
      }
      if (space) continue;
      switch (phase) {
        case 'start':
          if (c !== '{') fail('expected a JSON object');
          depth = 1;
          phase = 'key';
          continue;
        case 'end':
          fail('text after the end of the bundle');
          continue;
        case 'key':
          if (c === '}' && Object.keys(envelope).length === 0 && !sawReceipts) {
            phase = 'end';
            depth = 0;
            continue;
          }
          if (c !== '"') fail('expected a field name');
          inString = true;
          capture = { prefix: '', from: i };
          continue;
        case 'colon':
          if (c !== ':') fail(`expected ":" after "${key}"`);
          phase = 'value';
          continue;
        case 'value':
          if (key === 'receipts') {
            if (sawReceipts) fail('two receipts fields');
            if (c !== '[') fail('receipts: expected an array');
            sawReceipts = true;
            depth = 2;
            phase = 'items';
            continue;
          }
          capture = { prefix: '', from: i };
          if (c === '{' || c === '[') {
            depth++;
            phase = 'in-value';
          } else if (c === '"') {
            inString = true;
            phase = 'in-value';
          } else phase = 'in-scalar';
          continue;
        case 'after':
          if (c === ',') phase = 'key';
          else if (c === '}') {
            phase = 'end';
            depth = 0;
          } else fail('expected "," or "}"');
          continue;
        case 'items':
          if (c === ']') {
            depth = 1;
            phase = 'after';
          } else if (c === '{') {
            capture = { prefix: '', from: i };
            depth = 3;
            phase = 'in-item';
          } else if (c !== ',') fail(`receipts[${receipts}] is not an object`);
          continue;
        default:
          // in-value, in-item: nested structure
          if (c === '"') inString = true;
          else if (c === '{' || c === '[') depth++;
          else if (c === '}' || c === ']') {
            depth--;
            if (phase === 'in-item' && depth === 2) {
              const value = parse(take(text, i + 1), `receipts[${receipts}]`);
              yield { kind: 'receipt', index: receipts++, value };
              phase = 'items';
            } else if (phase === 'in-value' && depth === 1) {
              const value = parse(take(text, i + 1), key);
              envelope[key] = value;
              yield { kind: 'field', name: key, value };
              phase = 'after';
            }
          }
      }
    }
    if (capture !== undefined) capture = { prefix: capture.prefix + text.slice(capture.from), from: 0 };
  }

  try {
    for await (const chunk of chunks) {
      yield* scan(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    }
    yield* scan(decoder.decode());
  } catch (err) {
    if (err instanceof TypeError && !(err instanceof BundleFormatError)) fail(`not UTF-8 (${err.message})`);
    throw err;
  }
  if ((phase as Phase) !== 'end') fail('the document is cut short: it does not end with "}"');
  return { envelope, receipts, sawReceipts };
}

/**
 * The envelope checks of a streamed bundle, once it has been read (those of `validateBundleEnvelope`):
 * the format, a non-empty `receipts`, and `count` equal to it. Throws {@link BundleFormatError}.
 */
export function checkStreamedBundle(document: StreamedDocument): void {
  const { envelope, receipts, sawReceipts } = document;
  if (envelope.format !== BUNDLE_FORMAT) {
    throw new BundleFormatError('bundle.format', `expected "${BUNDLE_FORMAT}"`);
  }
  if (!sawReceipts) throw new BundleFormatError('bundle.receipts', 'expected an array');
  if (receipts === 0) {
    throw new BundleFormatError('bundle.receipts', 'holds no receipts: there is nothing to verify');
  }
  if (envelope.count !== receipts) {
    throw new BundleFormatError(
      'bundle.count',
      `says ${JSON.stringify(envelope.count)} receipts, the bundle holds ${receipts}: it is incomplete or altered`,
    );
  }
}
