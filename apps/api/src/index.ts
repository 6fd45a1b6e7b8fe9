// The api deployable (systemd, the container, `fieldproof api`): read the environment, serve until
// SIGTERM/SIGINT, exit with the status of README "Exit status". It loads @fieldproof/api and what that
// needs — never the keeper, ethers or the CLI's other commands. Logic: packages/api (runApi → runService).
import { runApi } from '@fieldproof/api';

process.exitCode = await runApi({ env: process.env });

// Last resort: runApi has returned, so anything still holding the event loop is a leak. Exit anyway,
// and say so, rather than stay up serving nothing.
setTimeout(() => {
  process.stderr.write('fieldproof api: still running 5 s after stopping (a leaked handle); exiting\n');
  process.exit();
}, 5_000).unref();
