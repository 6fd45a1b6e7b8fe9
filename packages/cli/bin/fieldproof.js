#!/usr/bin/env node
// The `fieldproof` command. Logic lives in packages/cli/src; this file only starts it.
import { main } from '../dist/index.js';

process.exitCode = await main(process.argv.slice(2), process.env);
