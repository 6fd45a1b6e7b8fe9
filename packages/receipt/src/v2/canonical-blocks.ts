import { ReceiptError } from '../errors.js';

/**
 * The one fact an offline verifier cannot establish: that block `hash` is block `number` of the canonical
 * chain `chainId`. Two sources, each a {@link CanonicalBlocks}: a trusted block list the auditor got
 * from sources of their choosing (`--trusted-blocks`), or JSON-RPC endpoints (`--rpc`, all must agree).
 */
export type CanonicalAnswer =
  | { readonly status: 'ok'; readonly detail: string }
  | { readonly status: 'failed'; readonly detail: string }
  | { readonly status: 'unchecked'; readonly detail: string };

export interface CanonicalBlocks {
  check(chainId: number, number: number, hash: string): CanonicalAnswer | Promise<CanonicalAnswer>;
}

/** A malformed trusted block list: a usage error, never a verdict. */
export class TrustedBlocksError extends ReceiptError {}

const LINE = /^(\d{1,15})\s+(\d{1,15})\s+(0x[0-9a-fA-F]{64})$/;

/**
 * Parses a trusted block list: one block per line, `chainId number hash` (decimal, decimal, 0x + 64 hex
 * digits, any case), separated by spaces or tabs; blank lines and lines starting with `#` are ignored.
 * Two lines for the same block with different hashes are refused. Throws {@link TrustedBlocksError}.
 */
export function parseTrustedBlocks(text: string, source = 'trusted blocks'): Map<string, string> {
  const blocks = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line.replace(/\s+/g, ' '));
    if (m === null) {
      throw new TrustedBlocksError(
        `${source}:${i + 1}: expected "chainId number hash" (e.g. "1 21000000 0x…64 hex digits"), got ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const key = `${Number(m[1])}:${Number(m[2])}`;
    const hash = m[3]!.toLowerCase();
    const known = blocks.get(key);
    if (known !== undefined && known !== hash) {
      throw new TrustedBlocksError(
        `${source}:${i + 1}: block ${m[2]} of chain ${m[1]} is listed with two hashes`,
      );
    }
    blocks.set(key, hash);
  });
  return blocks;
}

/** Canonicality from a trusted block list (see {@link parseTrustedBlocks}). Synchronous: no network. */
export function trustedBlocks(
  blocks: ReadonlyMap<string, string>,
  source = 'the trusted block list',
): CanonicalBlocks {
  return {
    check(chainId, number, hash) {
      const trusted = blocks.get(`${chainId}:${number}`);
      if (trusted === undefined) {
        return {
          status: 'unchecked',
          detail: `${source} has no line for block ${number} of chain ${chainId}`,
        };
      }
      return trusted === hash
        ? { status: 'ok', detail: `${source} lists ${hash} as block ${number} of chain ${chainId}` }
        : {
            status: 'failed',
            detail: `${source} lists ${trusted} as block ${number} of chain ${chainId}, not ${hash}: not the canonical chain`,
          };
    },
  };
}

export interface RpcBlocksOptions {
  readonly timeoutMs?: number;
  /** Injected for tests; default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

interface Endpoint {
  /** Host only: URLs may carry API keys, which must not end up in verdicts. */
  readonly host: string;
  readonly url: string;
  chainId?: Promise<number>;
}

/**
 * Canonicality from JSON-RPC endpoints: `eth_getBlockByNumber(number)` on every endpoint whose
 * `eth_chainId` is the block's chain; all must answer the same hash. One call per endpoint and distinct
 * block, cached for the life of this object (a whole bundle). Uses `fetch` only: no chain library.
 */
export function rpcBlocks(urls: readonly string[], options: RpcBlocksOptions = {}): CanonicalBlocks {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const doFetch = options.fetch ?? fetch;
  const endpoints: Endpoint[] = urls.map((url) => ({ url, host: hostOf(url) }));
  const answers = new Map<string, Promise<CanonicalAnswer>>();

  async function call<T>(endpoint: Endpoint, method: string, params: unknown[]): Promise<T> {
    const response = await doFetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.json()) as { result?: T; error?: { message?: string } };
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.message ?? 'error'}`);
    return body.result as T;
  }

  const chainIdOf = (endpoint: Endpoint): Promise<number> =>
    (endpoint.chainId ??= call<string>(endpoint, 'eth_chainId', []).then((id) => {
      if (typeof id !== 'string' || !/^0x[0-9a-fA-F]+$/.test(id))
        throw new Error(`eth_chainId answered ${JSON.stringify(id)}`);
      return Number(BigInt(id));
    }));

  async function ask(chainId: number, number: number, hash: string): Promise<CanonicalAnswer> {
    const served: string[] = [];
    const down: string[] = [];
    const seen: { host: string; hash: string | null }[] = [];
    for (const endpoint of endpoints) {
      try {
        const id = await chainIdOf(endpoint);
        served.push(`${id} at ${endpoint.host}`);
        if (id !== chainId) continue;
        const block = await call<{ hash?: string } | null>(endpoint, 'eth_getBlockByNumber', [
          `0x${number.toString(16)}`,
          false,
        ]);
        seen.push({
          host: endpoint.host,
          hash: typeof block?.hash === 'string' ? block.hash.toLowerCase() : null,
        });
      } catch (err) {
        down.push(`${endpoint.host}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (seen.length === 0) {
      return down.length > 0
        ? { status: 'failed', detail: `no reachable RPC URL serves chain ${chainId}; ${down.join('; ')}` }
        : {
            status: 'unchecked',
            detail: `no RPC URL serves chain ${chainId} (they serve ${served.join(', ')})`,
          };
    }
    const hashes = new Set(seen.map((s) => s.hash));
    if (hashes.size > 1) {
      return {
        status: 'failed',
        detail: `the RPC URLs disagree on block ${number}: ${seen.map((s) => `${s.host} ${s.hash ?? 'none'}`).join(', ')}`,
      };
    }
    const [answer] = hashes;
    const hosts = seen.map((s) => s.host).join(', ');
    if (answer === null)
      return { status: 'failed', detail: `${hosts}: chain ${chainId} has no block ${number}` };
    if (answer !== hash) {
      return {
        status: 'failed',
        detail: `${hosts}: block ${number} of chain ${chainId} is ${answer}, not ${hash}`,
      };
    }
    const partial = down.length > 0 ? ` (unreachable: ${down.join('; ')})` : '';
    return { status: 'ok', detail: `${hosts}: block ${number} of chain ${chainId} is ${hash}${partial}` };
  }

  return {
    check(chainId, number, hash) {
      const key = `${chainId}:${number}:${hash}`;
      let answer = answers.get(key);
      if (answer === undefined) {
        answer = ask(chainId, number, hash);
        answers.set(key, answer);
      }
      return answer;
    },
  };
}

/** The first source that has an opinion: a trusted list's `unchecked` falls through to the next. */
export function firstOf(sources: readonly CanonicalBlocks[]): CanonicalBlocks {
  return {
    async check(chainId, number, hash) {
      let last: CanonicalAnswer = {
        status: 'unchecked',
        detail: 'no trusted block list and no RPC URL given',
      };
      for (const source of sources) {
        const answer = await source.check(chainId, number, hash);
        if (answer.status !== 'unchecked') return answer;
        last = answer;
      }
      return last;
    },
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
