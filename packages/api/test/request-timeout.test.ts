import net from 'node:net';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startApi } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
import { createTestDatabase, tempDir } from '../../../test/support/databases.js';

/** Node's own sweep of slow connections runs every 30 s unless told otherwise. */
const NODE_DEFAULT_CHECK_MS = 30_000;

describe('request timeout', () => {
  it('closes a connection that sends its headers slowly soon after API_REQUEST_TIMEOUT_MS', async () => {
    const database = await createTestDatabase('sqlite');
    const { config } = loadConfig({
      API_DB_URL: database.target.url,
      FIELDPROOF_DATA_DIR: tempDir(),
      API_PORT: '0',
      API_REQUEST_TIMEOUT_MS: '300',
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
    });
    const api = await startApi(config, { database, logger: pino({ level: 'silent' }) });
    const socket = net.connect(Number(new URL(api.address).port), '127.0.0.1');
    let drip: NodeJS.Timeout | undefined;
    try {
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      socket.on('error', () => undefined); // a reset after the 408 is fine
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const started = Date.now();
      // A slowloris client: one header byte every 100 ms, never finishing the header block. The socket
      // never idles, so only the request timeout can end it.
      socket.write('GET /v1/evidence HTTP/1.1\r\nhost: x\r\nx-slow: ');
      drip = setInterval(() => socket.write('a'), 100);
      // Generous bound: the point is "not Node's 30 s sweep", not a tight timing window.
      const outcome = await Promise.race([
        closed.then(() => 'closed' as const),
        new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 10_000)),
      ]);
      const elapsed = Date.now() - started;
      expect(outcome, `still open after ${elapsed} ms`).toBe('closed');
      expect(elapsed).toBeLessThan(NODE_DEFAULT_CHECK_MS / 3);
      expect(received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
      socket.destroy();
      await api.close();
      await database.close();
    }
  }, 20_000);
});
