import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startApi } from '@fieldproof/api';
import { loadConfig } from '@fieldproof/config';
import { createKey } from '../../../test/support/api.js';
import { createTestDatabase, tempDir } from '../../../test/support/databases.js';
import { waitFor } from '../../../test/support/wait-for.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  code?: string;
}

/** A pino logger writing into an array, and the lines parsed. */
function captureLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
  return { logger, lines: () => lines.map((l) => JSON.parse(l) as LogLine) };
}

function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  return waitFor(what, probe, { timeoutMs: 10_000 });
}

const ERROR = 50;

describe('a client that aborts a raw upload mid-stream', () => {
  it('is logged below error and counted apart from 5xx', async () => {
    const database = await createTestDatabase('sqlite');
    const dataDir = tempDir();
    const { config } = loadConfig({
      API_DB_URL: database.target.url,
      FIELDPROOF_DATA_DIR: dataDir,
      API_PORT: '0',
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
    });
    const log = captureLogger();
    const api = await startApi(config, { database, logger: log.logger });
    const { authorization } = await createKey(database, ['read', 'write']);
    try {
      const socket = net.connect(Number(new URL(api.address).port), '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(
        `POST /v1/evidence?kind=k&occurredAt=1 HTTP/1.1\r\nhost: x\r\nauthorization: ${authorization}\r\n` +
          `content-type: application/octet-stream\r\ncontent-length: 1000000\r\n\r\n`,
      );
      socket.write(Buffer.alloc(64 * 1024, 1));
      // The handler is streaming into the content store once its temporary file exists.
      const tmp = path.join(dataDir, 'content', '.tmp');
      await until(() => (fs.existsSync(tmp) && fs.readdirSync(tmp).length > 0 ? true : undefined), 'upload');
      socket.destroy();

      const line = await until(
        () => log.lines().find((l) => l.reqId !== undefined && l.msg !== 'api listening'),
        'the log line of the aborted request',
      );
      expect(line.level, JSON.stringify(line)).toBeLessThan(ERROR);
      expect(line.msg).toMatch(/abort/);
      expect(log.lines().filter((l) => l.level >= ERROR)).toEqual([]);
      // The partial upload is not kept.
      await until(() => (fs.readdirSync(tmp).length === 0 ? true : undefined), 'the partial file removed');

      const metrics = await (await fetch(`${api.address}/metrics`, { headers: { authorization } })).text();
      expect(metrics).toMatch(/^fieldproof_api_requests_dropped_total\{reason="client_aborted"\} 1$/m);
      expect(metrics).not.toMatch(/fieldproof_api_request_duration_seconds_count\{[^}]*status="5\d\d"/);
    } finally {
      await api.close();
      await database.close();
    }
  });
});
