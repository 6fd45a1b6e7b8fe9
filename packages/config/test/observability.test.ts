import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  collectProcessMetrics,
  componentLogger,
  createProcessLogger,
} from '@fieldproof/config/observability';

function capture(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('one logger for api, keeper and collector', () => {
  it.each(['api', 'keeper', 'collector'] as const)(
    '%s: service and pid on every line, component on a subsystem line, one redaction list',
    (name) => {
      const out = capture();
      const logger = createProcessLogger(name, 'info', { stream: out.stream });
      logger.info({ req: { headers: { authorization: 'Bearer fp_secret' } } }, 'request');
      componentLogger(logger, 'anchor', { chain: 'local' }).warn(
        { signerKey: '0xabc', detail: { privateKey: '0xdef', key: 'fp_k', seed: 's' } },
        'anchoring',
      );
      const [request, anchoring] = out.lines();
      expect(request).toMatchObject({ service: `fieldproof-${name}`, pid: process.pid, msg: 'request' });
      expect(request).not.toHaveProperty('process');
      expect(anchoring).toMatchObject({ service: `fieldproof-${name}`, component: 'anchor', chain: 'local' });
      const text = JSON.stringify(out.lines());
      for (const secret of ['fp_secret', '0xabc', '0xdef', 'fp_k', '"s"']) expect(text).not.toContain(secret);
      expect(text.match(/\[redacted\]/g)).toHaveLength(5);
    },
  );

  it.each(['api', 'keeper', 'collector'] as const)(
    "%s: Node's default metrics are named fieldproof_<process>_…",
    async (name) => {
      const registry = new Registry();
      collectProcessMetrics(registry, name);
      const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
      expect(names).toContain(`fieldproof_${name}_process_resident_memory_bytes`);
      expect(names).toContain(`fieldproof_${name}_nodejs_eventloop_lag_p99_seconds`);
      expect(names.filter((n) => !n.startsWith(`fieldproof_${name}_`))).toEqual([]);
    },
  );
});
