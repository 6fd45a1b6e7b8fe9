import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/** The power-loss drill only (`npm run drill`): it needs root and FUSE, and takes minutes. */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/drill/**/*.drill.ts'],
    globalSetup: [],
  },
});
