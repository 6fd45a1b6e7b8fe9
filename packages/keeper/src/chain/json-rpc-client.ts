/**
 * A minimal JSON-RPC 2.0 client over HTTP(S). ethers v6 signs and encodes transactions; the transport is
 * this small client because the keeper must tell failures apart exactly — "the node answered with an
 * error" (RpcResponseError) versus "we do not know what happened" (RpcTransportError: refused, reset,
 * timeout, 5xx) — with a hard timeout per request, no hidden retries and no background network
 * detection. The RPC URL may embed an API key: it never appears in an error message.
 */

/** The request did not produce a JSON-RPC answer. For a send, the outcome is unknown. */
export class RpcTransportError extends Error {
  override readonly name = 'RpcTransportError';
  constructor(
    readonly reason: 'timeout' | 'connection' | 'http' | 'body',
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The node answered with a JSON-RPC error object. */
export class RpcResponseError extends Error {
  override readonly name = 'RpcResponseError';
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
    readonly data: unknown,
  ) {
    super(`${method}: ${rpcMessage} (code ${code})`);
  }
}

export interface JsonRpcClientOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** Called after every request: whether the node was reachable (health tracking). */
  readonly onOutcome?: (reachable: boolean, err?: unknown) => void;
}

export class JsonRpcClient {
  #id = 0;
  readonly #abort = new AbortController();
  constructor(readonly options: JsonRpcClientOptions) {}

  /** Calls `method`; resolves with `result` or throws RpcResponseError / RpcTransportError. */
  async call<T>(method: string, params: readonly unknown[]): Promise<T> {
    try {
      const result = await this.#call<T>(method, params);
      this.options.onOutcome?.(true);
      return result;
    } catch (err) {
      this.options.onOutcome?.(!(err instanceof RpcTransportError), err);
      throw err;
    }
  }

  /** Aborts requests in flight (close). */
  abort(): void {
    this.#abort.abort();
  }

  async #call<T>(method: string, params: readonly unknown[]): Promise<T> {
    const id = ++this.#id;
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
    } catch (err) {
      throw transportError(method, err, this.options.timeoutMs);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw transportError(method, err, this.options.timeoutMs);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // A gateway's HTML error page, a truncated body: nothing a node said.
      throw new RpcTransportError(
        response.ok ? 'body' : 'http',
        `${method}: HTTP ${response.status} without a JSON-RPC body`,
        response.status,
      );
    }
    if (typeof body === 'object' && body !== null && 'error' in body && body.error != null) {
      const e = body.error as { code?: unknown; message?: unknown; data?: unknown };
      const code = typeof e.code === 'number' ? e.code : 0;
      const message = typeof e.message === 'string' ? e.message : JSON.stringify(e);
      throw new RpcResponseError(method, code, message, e.data);
    }
    if (!response.ok) {
      throw new RpcTransportError('http', `${method}: HTTP ${response.status}`, response.status);
    }
    if (typeof body !== 'object' || body === null || !('result' in body)) {
      throw new RpcTransportError('body', `${method}: answer has neither result nor error`, response.status);
    }
    return body.result as T;
  }
}

function transportError(method: string, err: unknown, timeoutMs: number): RpcTransportError {
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError') {
    return new RpcTransportError('timeout', `${method}: no answer within ${timeoutMs} ms`, undefined, {
      cause: err,
    });
  }
  if (name === 'AbortError') {
    return new RpcTransportError('connection', `${method}: aborted (closing)`, undefined, { cause: err });
  }
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : name || 'error';
  return new RpcTransportError('connection', `${method}: connection failed (${code})`, undefined, {
    cause: err,
  });
}
