// The api deployable: read the environment, serve the api until SIGTERM/SIGINT. It runs exactly what
// `fieldproof api` runs (packages/cli/src/commands/api.ts → startApi in packages/api), so the two can
// never differ: same config loading, migration, one-line operator errors, graceful shutdown.
import { main } from '@fieldproof/cli';

process.exitCode = await main(['api', ...process.argv.slice(2)], process.env);
