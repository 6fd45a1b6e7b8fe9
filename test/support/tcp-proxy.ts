import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a local node, which a test can cut:
 * - `pause('refuse')`: open connections are reset and new ones are reset at once (the client sees a
 *   connection error);
 * - `pause('hang')`: open connections are reset and new ones are accepted but never answered (the
 *   client sees its own timeout);
 * - `pause('swallow')`: requests still reach the node, on open and new connections, but its answers
 *   are dropped (the request happened, the client never learns its outcome: an ambiguous failure);
 * - `resume()`: connections are forwarded again.
 * `connections` counts every connection attempt, so a test can bound how often a client retried.
 */
export interface TcpProxy {
  readonly url: string;
  readonly port: number;
  readonly connections: number;
  readonly mode: 'forward' | 'refuse' | 'hang' | 'swallow';
  pause(mode?: 'refuse' | 'hang' | 'swallow'): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  let mode: TcpProxy['mode'] = 'forward';
  let connections = 0;
  const open = new Set<net.Socket>();

  const server = net.createServer((client) => {
    connections += 1;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'hang') return; // accepted, never answered
    const upstream = net.connect({ host, port: target.port });
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream);
    // Answers are dropped while swallowing (checked per chunk, so open connections are affected too).
    upstream.on('data', (chunk: Buffer) => {
      if (mode !== 'swallow') client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  const cutAll = () => {
    for (const s of open) s.destroy();
    open.clear();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections;
    },
    get mode() {
      return mode;
    },
    pause(next = 'refuse') {
      mode = next;
      if (next !== 'swallow') cutAll();
    },
    resume() {
      mode = 'forward';
      cutAll(); // hung connections end; clients reconnect
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
