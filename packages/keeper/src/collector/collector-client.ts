import { readFile } from 'node:fs/promises';
import type { CollectorTarget } from '@fieldproof/config';

/** One HTTP request to a collector may take this long. */
const REQUEST_TIMEOUT_MS = 60_000;

/** A collector's answer that no retry fixes (409 equivocation, most 4xx), or one worth retrying. */
export class CollectorPushError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CollectorPushError';
  }
}

/** How the keeper talks to one collector: its device routes, authenticated with the unit's push key. */
export interface CollectorClient {
  /** `<url>/v1/devices/<origin><suffix>`. */
  readonly deviceUrl: (origin: string, suffix?: string) => string;
  /**
   * One request; resolves the parsed JSON answer of a 2xx. Throws {@link CollectorPushError}: transient
   * for network errors, 5xx, 408, 429 and `FP_LEAF_GAP`; permanent for any other refusal.
   */
  readonly request: (
    method: string,
    url: string,
    body?: { readonly bytes: Buffer; readonly type: string },
  ) => Promise<unknown>;
}

/** The client of `target` (the push key file is read on first use). */
export function createCollectorClient(
  target: CollectorTarget,
  doFetch: typeof fetch = fetch,
): CollectorClient {
  let pushKey: string | undefined;
  async function key(): Promise<string> {
    pushKey ??= (await readFile(target.apiKeyFile, 'utf8')).trim();
    return pushKey;
  }
  return {
    deviceUrl(origin, suffix = '') {
      return `${target.url}/v1/devices/${encodeURIComponent(origin)}${suffix}`;
    },
    async request(method, url, body) {
      let response: Response;
      try {
        response = await doFetch(url, {
          method,
          headers: {
            authorization: `Bearer ${await key()}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': body.type, 'content-encoding': 'gzip' }),
          },
          ...(body === undefined ? {} : { body: body.bytes }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        throw new CollectorPushError(`${method} ${url}: ${(err as Error).message}`, false);
      }
      const text = await response.text().catch(() => '');
      if (response.ok) {
        try {
          return text === '' ? {} : (JSON.parse(text) as unknown);
        } catch {
          throw new CollectorPushError(`${method} ${url}: answer is not JSON`, false, response.status);
        }
      }
      let code = '';
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { code?: string; message?: string };
        code = parsed.code ?? '';
        message = parsed.message ?? message;
      } catch {
        // not the api's error shape: keep the text
      }
      const s = response.status;
      const transient = s >= 500 || s === 408 || s === 429 || code === 'FP_LEAF_GAP';
      throw new CollectorPushError(
        `${method} ${new URL(url).pathname}: ${s}${code === '' ? '' : ` ${code}`}: ${message}`,
        !transient,
        s,
      );
    },
  };
}
