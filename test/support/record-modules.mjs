// `node --import ./record-modules.mjs …`: records the URL of every module the process resolves (ESM
// imports and CommonJS requires alike, through module.registerHooks) and writes them, one a line, to
// $FIELDPROOF_RECORD_MODULES when the process exits. What a process loads is then a fact a test reads,
// not a reading of import statements (a dynamic import counts too). Node >= 22.15.
import fs from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.FIELDPROOF_RECORD_MODULES;
if (out === undefined || out === '') throw new Error('record-modules: set FIELDPROOF_RECORD_MODULES');
const seen = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    seen.add(resolved.url);
    return resolved;
  },
});
// Node's own bundled undici (fetch) is no module URL: it is recorded as `internal:undici` when loaded.
process.on('exit', () => {
  if (process.moduleLoadList.some((m) => m.includes('internal/deps/undici'))) seen.add('internal:undici');
  fs.writeFileSync(out, [...seen].map((url) => `${url}\n`).join(''));
});
