// Bundles the console's in-browser verifier (console/verifier-entry.mjs → dist/console/verifier.js) with
// esbuild, at build time, from @fieldproof/receipt's built output: the page always carries the verifier
// the receipt package is now. node:crypto becomes console/node-crypto-browser.mjs (@noble/hashes and
// @noble/curves); Buffer comes from the `buffer` package. Run by `npm run build` after tsc.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const SKIPPED = here('../dist/console/verifier.skipped');

// esbuild runs a native binary installed for the platform npm installed for. deploy/arm64/cross-test.sh
// installs node_modules for arm64 and builds with this host's node: there esbuild cannot run, the bundle
// is not made, and this says so (in dist/console/verifier.skipped, which the bundle's test reads) instead
// of failing the TypeScript build. The console then says the verifier was not built.
let build;
try {
  const esbuild = await import('esbuild');
  await esbuild.transform('');
  build = esbuild.build;
} catch (err) {
  const reason = `esbuild cannot run on this host (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  await mkdir(here('../dist/console'), { recursive: true });
  await writeFile(SKIPPED, `${reason}\n`);
  await rm(here('../dist/console/verifier.js'), { force: true }); // never serve a bundle of older code
  process.stderr.write(`console verifier NOT built: ${reason}\n`);
  process.exit(0);
}

/**
 * Modules @fieldproof/note imports for its key files (node:fs, node:path, node:util): the verifier never
 * reaches that code, but the imports must resolve (and a class there reads inspect.custom when defined).
 * An empty module stands in.
 */
const nodeOnly = {
  name: 'node-only',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|fs\/promises|path|util)$/ }, (args) => ({
      path: args.path,
      namespace: 'node-only',
    }));
    // node:util's inspect.custom names a method at class definition (device-key.ts): the same symbol Node uses.
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, (args) => ({
      contents:
        args.path === 'node:util'
          ? "module.exports = { inspect: { custom: Symbol.for('nodejs.util.inspect.custom') } };"
          : 'module.exports = {};',
    }));
  },
};
const result = await build({
  entryPoints: [here('../console/verifier-entry.mjs')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  conditions: ['browser'],
  alias: { 'node:crypto': here('../console/node-crypto-browser.mjs') },
  plugins: [nodeOnly],
  inject: [here('../console/buffer-global.mjs')],
  // ethers is loaded only to check anchors on a chain (anchor-links.ts, a dynamic import): offline, never.
  external: ['ethers'],
  write: false,
  metafile: true,
});
const code = result.outputFiles[0].text;
await mkdir(here('../dist/console'), { recursive: true });
await writeFile(here('../dist/console/verifier.js'), code);
await rm(SKIPPED, { force: true });
process.stdout.write(`console verifier: dist/console/verifier.js, ${code.length} bytes\n`);
