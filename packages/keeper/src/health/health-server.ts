import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

// Not `import http from 'node:http'`: on Node 24 an ESM import of node:http builds its whole namespace,
// whose lazy WebSocket/CloseEvent/MessageEvent exports load undici (fetch) — about 10 MB of resident
// memory a process that never fetches does not need (issue 13). The CommonJS object leaves them unread.
const http = process.getBuiltinModule('node:http');

/** One readiness check's answer. */
export interface Readiness {
  readonly ok: boolean;
  readonly detail: string;
}

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Named readiness checks; /readyz is 200 only when every one is ok. */
  readonly readiness: () => Promise<Record<string, Readiness>>;
}

export interface HealthServer {
  /** Binds; resolves to the bound address (port 0 picks a free one). */
  listen(): Promise<AddressInfo>;
  close(): Promise<void>;
}

/**
 * The keeper's small HTTP server (plain node:http: three read-only routes need no framework):
 *
 * - `GET /healthz` — 200 while the process runs (liveness).
 * - `GET /readyz`  — 200 or 503 with `{ ok, checks: { name: { ok, detail } } }`.
 * - `GET /metrics` — the Prometheus registry, text format.
 */
export function createHealthServer(options: HealthServerOptions): HealthServer {
  const { registry, logger } = options;
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'health server request failed');
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ ok: false }));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://keeper');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
    }
    switch (url.pathname) {
      case '/healthz':
        return send(res, 200, 'application/json', JSON.stringify({ ok: true }));
      case '/readyz': {
        const checks = await options.readiness();
        const ok = Object.values(checks).every((c) => c.ok);
        return send(res, ok ? 200 : 503, 'application/json', JSON.stringify({ ok, checks }));
      }
      case '/metrics':
        return send(res, 200, registry.contentType, await registry.metrics());
      default:
        return send(res, 404, 'application/json', JSON.stringify({ error: 'not found' }));
    }
  }

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
