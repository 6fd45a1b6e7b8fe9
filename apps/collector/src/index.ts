// The collector deployable: read the environment, serve the collector until SIGTERM/SIGINT. It runs exactly
// what `fieldproof collector` runs (packages/cli/src/commands/collector.ts → startCollector in
// packages/collector): same config loading, migration, one-line operator errors, graceful shutdown.
import { main } from '@fieldproof/cli';

process.exitCode = await main(['collector', ...process.argv.slice(2)], process.env);
