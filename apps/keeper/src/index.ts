// The keeper deployable (systemd, `fieldproof keeper`): read the environment, run until SIGTERM/SIGINT,
// exit with the status of README "Exit status". It loads the keeper's service entry and what that needs —
// never fastify, the CLI's other commands, or the chain code unless a chain is configured (loadAnchoring).
// Logic: packages/keeper (runKeeper → runService).
import { runKeeper } from '@fieldproof/keeper/service';

process.exitCode = await runKeeper({ env: process.env });

// Last resort: runKeeper has returned, so anything still holding the event loop is a leak. Exit anyway,
// and say so, rather than stay up doing nothing.
setTimeout(() => {
  process.stderr.write('fieldproof keeper: still running 5 s after stopping (a leaked handle); exiting\n');
  process.exit();
}, 5_000).unref();
