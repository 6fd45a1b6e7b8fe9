// The collector deployable (`fieldproof collector` runs the same): read the environment, serve pushes until
// SIGTERM/SIGINT, exit with the status of README "Exit status". It loads @fieldproof/collector and what
// that needs — never the keeper, ethers or the CLI. Logic: packages/collector (runCollector → runService).
import { runCollector } from '@fieldproof/collector';

process.exitCode = await runCollector({ env: process.env });

// Last resort: runCollector has returned, so anything still holding the event loop is a leak. Exit anyway,
// and say so, rather than stay up serving nothing.
setTimeout(() => {
  process.stderr.write('fieldproof collector: still running 5 s after stopping (a leaked handle); exiting\n');
  process.exit();
}, 5_000).unref();
