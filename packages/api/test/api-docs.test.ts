import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '@fieldproof/api';
import { createTestApi } from '../../../test/support/api.js';

const doc = fs.readFileSync(new URL('../../../docs/API.md', import.meta.url), 'utf8');

describe('docs/API.md cannot drift from the code', () => {
  it('lists exactly the catalogued error codes, with their statuses', () => {
    const section = doc.slice(doc.indexOf('## Errors'), doc.indexOf('\n## ', doc.indexOf('## Errors') + 1));
    const documented = [...section.matchAll(/^\| `(FP_[A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => ({
      code: m[1]!,
      statusCode: Number(m[2]),
    }));
    const sort = (xs: { code: string; statusCode: number }[]) =>
      [...xs].sort((a, b) => a.code.localeCompare(b.code));
    expect(sort(documented)).toEqual(sort(errorCatalogue()));
  });

  it('API_DOCS=off: no /docs and no /docs/json (404), the other routes unchanged', async () => {
    const t = await createTestApi('sqlite', { API_DOCS: 'off' });
    try {
      for (const url of ['/docs', '/docs/json']) {
        expect((await t.app.inject({ method: 'GET', url, headers: t.auth.read })).statusCode, url).toBe(404);
      }
      expect(
        (await t.app.inject({ method: 'GET', url: '/v1/outbox', headers: t.auth.read })).statusCode,
      ).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('documents every route the OpenAPI document has', async () => {
    const t = await createTestApi('sqlite');
    const res = await t.app.inject({ method: 'GET', url: '/docs/json', headers: t.auth.read });
    const paths = Object.keys(res.json<{ paths: Record<string, unknown> }>().paths);
    await t.close();
    expect(paths.length).toBeGreaterThan(10);
    const undocumented = paths
      .map((p) => p.replace(/\{(\w+)\}/g, ':$1'))
      .filter((p) => !new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[\`,? ]`).test(doc));
    expect(undocumented).toEqual([]);
  });
});
