import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

// The memory settings for a 1–2 GB board ship in three places that must agree: the systemd units'
// ExecStart= node flags and MemoryHigh=/MemoryMax=, the container's NODE_OPTIONS, and API_DOCS=off in the
// env template. `npm run bench` measures the processes with the units' flags (bench/lib/board-settings.mjs).

const read = (p: string) => fs.readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

function unit(name: 'api' | 'keeper') {
  const text = read(`deploy/arm64/fieldproof-${name}.service`);
  const exec =
    /^ExecStart=\/usr\/bin\/node ((?:--\S+ )*)\/opt\/fieldproof\/apps\/(\w+)\/dist\/index\.js$/m.exec(text);
  return {
    flags: exec?.[1]?.trim().split(' ') ?? [],
    app: exec?.[2],
    high: /^MemoryHigh=(\d+)M$/m.exec(text)?.[1],
    max: /^MemoryMax=(\d+)M$/m.exec(text)?.[1],
  };
}

describe('small-board memory settings', () => {
  it('the units cap the V8 heaps and the service memory', () => {
    for (const name of ['api', 'keeper'] as const) {
      const u = unit(name);
      expect(u.app).toBe(name);
      expect(u.flags).toContainEqual(expect.stringMatching(/^--max-old-space-size=\d+$/));
      expect(u.flags).toContainEqual(expect.stringMatching(/^--max-semi-space-size=\d+$/));
      expect(Number(u.high)).toBeGreaterThan(0);
      expect(Number(u.max)).toBeGreaterThan(Number(u.high));
      // The heap limit leaves room below MemoryHigh= for code, native memory and (api) the writer thread.
      const oldSpace = Number(/=(\d+)$/.exec(u.flags.find((f) => f.startsWith('--max-old-space-size'))!)![1]);
      expect(oldSpace).toBeLessThan(Number(u.high));
    }
  });

  it('the container runs every node process with the same flags, and without /docs', () => {
    const docker = read('Dockerfile.arm64');
    const nodeOptions = /NODE_OPTIONS="([^"]+)"/.exec(docker)?.[1];
    expect(nodeOptions?.split(' ')).toEqual(unit('api').flags);
    expect(unit('keeper').flags).toEqual(unit('api').flags);
    expect(docker).toMatch(/^\s+API_DOCS=off \\$/m);
  });

  it('the env template turns /docs off', () => {
    expect(read('deploy/arm64/fieldproof.env.example')).toMatch(/^API_DOCS=off$/m);
  });
});
