/**
 * The exit statuses of the long-running processes (`fieldproof api`, `keeper`, `collector`), one table for
 * both (README "Exit status"). `refused` is a start-up that no restart can fix — a setting, an edited or
 * unknown migration, a device or signer key — so a supervisor may stop retrying
 * (systemd `RestartPreventExitStatus=2`); `failed` may heal on its own (a port in use, the database
 * unreachable) or is a crash.
 */
export const EXIT_STATUS = Object.freeze({
  /** Stopped on SIGTERM/SIGINT after finishing in-flight work. */
  stopped: 0,
  /** Could not start for a reason outside the configuration, or failed while running. */
  failed: 1,
  /** Refused to start: the operator must fix a setting, the migrations or a key first. */
  refused: 2,
});
