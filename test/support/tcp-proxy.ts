import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a local node, which a test can cut:
 * - `pause('refuse')`: open connections are reset and new ones are reset at once (the client sees a
 *   connection error);
 * - `pause('hang')`: open connections are reset and new ones are accepted but never answered (the
 *   client sees its own timeout);
 * - `resume()`: connections are forwarded again.
 * `connections` counts every connection attempt, so a test can bound how often a client retried.
 */
export interface TcpProxy {
  readonly url: string;
  readonly port: number;
  readonly connections: number;
  readonly mode: 'forward' | 'refuse' | 'hang';
  pause(mode?: 'refuse' | 'hang'): void;
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
    upstream.pipe(client);
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
      cutAll();
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
