#!/usr/bin/env node
// The `fieldproof` command. Logic lives in packages/cli/src; this file only starts it.
import { main } from '../dist/index.js';

process.exitCode = await main(process.argv.slice(2), process.env);

// Last resort: main has returned, so anything still holding the event loop is a leak (as a worker
// thread once was after a failed listen). Exit anyway, and say so, rather than stay up serving nothing.
setTimeout(() => {
  process.stderr.write('fieldproof: still running 5 s after finishing (a leaked handle); exiting\n');
  process.exit();
}, 5_000).unref();
