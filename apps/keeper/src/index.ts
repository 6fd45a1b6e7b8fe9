// The keeper deployable (systemd, `fieldproof keeper`): read the environment, run until SIGTERM/SIGINT,
// exit with the status of README "Exit status". It loads @fieldproof/keeper and what that needs — never
// fastify or the CLI's other commands. Logic: packages/keeper (runKeeper → runService).
import { runKeeper } from '@fieldproof/keeper';

process.exitCode = await runKeeper({ env: process.env });

// Last resort: runKeeper has returned, so anything still holding the event loop is a leak. Exit anyway,
// and say so, rather than stay up doing nothing.
setTimeout(() => {
  process.stderr.write('fieldproof keeper: still running 5 s after stopping (a leaked handle); exiting\n');
  process.exit();
}, 5_000).unref();
