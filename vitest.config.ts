import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources; processes spawned by cross-process tests run the built dist.
    alias: [
      // A subpath export before its package: an alias also matches `<key>/…`.
      {
        find: '@fieldproof/config/observability',
        replacement: fileURLToPath(new URL('./packages/config/src/observability.ts', import.meta.url)),
      },
      {
        find: '@fieldproof/db/raw-sqlite',
        replacement: fileURLToPath(new URL('./packages/db/src/raw-sqlite.ts', import.meta.url)),
      },
      {
        find: '@fieldproof/keeper/device',
        replacement: fileURLToPath(
          new URL('./packages/keeper/src/device/device-identity.ts', import.meta.url),
        ),
      },
      {
        find: '@fieldproof/api/status',
        replacement: fileURLToPath(new URL('./packages/api/src/status/unit-status.ts', import.meta.url)),
      },
      {
        find: '@fieldproof/note/verify',
        replacement: fileURLToPath(new URL('./packages/note/src/verify.ts', import.meta.url)),
      },
      ...['db', 'merkle', 'note', 'receipt', 'proofs', 'config', 'api', 'keeper', 'collector', 'cli'].map(
        (n) => ({
          find: `@fieldproof/${n}`,
          replacement: pkg(n),
        }),
      ),
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    // Per test file: drops the PostgreSQL databases it created, after its last test.
    setupFiles: ['test/support/setup-file.ts'],
    reporters: ['default'],
  },
});
